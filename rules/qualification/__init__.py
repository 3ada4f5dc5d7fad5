"""Qualification and grading rules: ABCD grade, funnel threshold, customer risk (M6)."""
