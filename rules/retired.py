"""Finding codes that once existed and were retired. A code is never reused: a new rule takes a new code.

Each entry says when and why the rule went, and what covers its ground now
(tests/test_rule_units.py checks that no live rule uses a retired code and the
scaffold refuses them).
"""

from __future__ import annotations

RETIRED: dict[str, str] = {
    # No code has been retired yet. Entry format:
    # "DC9nn": "2027-01: merged into DC123 (same condition, one finding per person)",
}
