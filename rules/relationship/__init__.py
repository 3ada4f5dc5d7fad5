"""Relationship rules: friendship versus organisational interest, pressure tactics, trust (M7)."""
