"""Buying-centre rules: roles, power, coverage, decision process (M3)."""
