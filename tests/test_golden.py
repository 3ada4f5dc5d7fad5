"""End-to-end: each bundled example deal renders exactly as its reviewed golden file.

The golden files are regenerated deliberately and reviewed as diffs:

    DEALCOACH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import os

import pytest

import dealcoach

from helpers import EXAMPLES, HERE

GOLDEN = HERE / "golden"
UPDATE = os.environ.get("DEALCOACH_UPDATE_GOLDEN") == "1"
CASES = [(path, lang, fmt) for path in EXAMPLES for lang in ("zh", "en") for fmt in ("text", "json")]


@pytest.mark.parametrize("path,lang,fmt", CASES, ids=[f"{p.stem}-{lang}-{fmt}" for p, lang, fmt in CASES])
def test_rendered_review_matches_golden(path, lang: str, fmt: str) -> None:
    rendered = dealcoach.render(dealcoach.review(str(path)), lang=lang, fmt=fmt)
    golden = GOLDEN / f"{path.stem}.{lang}.{'txt' if fmt == 'text' else 'json'}"
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"{golden.name} missing: run with DEALCOACH_UPDATE_GOLDEN=1 and review the diff"
    assert rendered == golden.read_text(encoding="utf-8")


def test_no_orphan_golden_files() -> None:
    expected = {f"{p.stem}.{lang}.{'txt' if fmt == 'text' else 'json'}" for p, lang, fmt in CASES}
    assert {p.name for p in GOLDEN.iterdir()} == expected
