"""Supporter rules: insiders, sponsors, coaches (M4)."""
