"""Process and stage-gate rules (M1, M2)."""
