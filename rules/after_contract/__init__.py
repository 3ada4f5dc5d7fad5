"""After-the-contract rules: receivables and collection (M9)."""
