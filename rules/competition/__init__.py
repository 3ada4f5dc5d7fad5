"""Competition rules: rivals, the incumbent, differentiation (M5.2, M6.2)."""
