"""How long each bundled example's default review is, as a rep reads it on a phone.

    .venv/bin/python benchmarks/review_lengths.py

Prints, per example and language: characters without whitespace, words, and
the numbered cards shown. A phone read before a meeting holds about 1,500
汉字 or 600 English words (../shared/domain/COACHING_QUALITY.md, C2).
"""

from __future__ import annotations

import re
from pathlib import Path

import dealcoach

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


def main() -> None:
    for path in EXAMPLES:
        report = dealcoach.review(str(path))
        for lang in ("zh", "en"):
            text = dealcoach.render(report, lang=lang)
            chars = len(re.sub(r"\s", "", text))
            cards = len(re.findall(r"(?m)^\d+\. ", text))
            print(f"{path.name:<42} {lang} chars={chars:>5} words={len(text.split()):>4} cards={cards:>2}")


if __name__ == "__main__":
    main()
