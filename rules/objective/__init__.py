"""Objective and evidence rules: who / what / how much / when, who shaped it, what the budget rests on (M5)."""
