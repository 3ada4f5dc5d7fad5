"""Language mechanics of rendered text: plural forms (CLDR) and column widths of text in a terminal, where a
Chinese character takes two columns (Unicode East Asian Width, via wcwidth)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from collections.abc import Callable

# The CLDR plural rules of the languages dealcoach writes, as Babel's locale data states them; tests/test_wording.py
# checks they are still Babel's and that the functions below answer as Babel does. Importing Babel and reading a
# locale's data took most of a one-deal command's run; any other language is asked of Babel.
PLURAL_RULES: dict[str, dict[str, str]] = {"zh": {}, "en": {"one": "i in 1 and v in 0"}}
_PLURALS: dict[str, Callable[[float], str]] = {
    "zh": lambda count: "other",
    "en": lambda count: "one" if count == 1 else "other",  # i = 1 and v = 0: 1 (and 1.0, as Babel reads a float)
}


@lru_cache(maxsize=8)
def _plural_rule(lang: str) -> Callable[[float], str]:
    if lang in _PLURALS:
        return _PLURALS[lang]
    from babel import Locale

    return Locale.parse(lang).plural_form


def plural_category(lang: str, count: float) -> str:
    """The CLDR plural category of `count` in `lang`: "one" or "other" in English, always "other" in Chinese."""
    return _plural_rule(lang)(abs(count))


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal (a CJK character two, a combining mark none)."""
    from wcwidth import wcswidth  # its tables load only when a table is laid out

    width = wcswidth(text)
    return width if width >= 0 else len(text)  # a control character: count it as one column


_NUMBER = r"-?[\d,]+(?:\.\d+)?"
_NUMERIC_CELL = re.compile(rf"(?:[A-Z]{{3}} )?{_NUMBER}|{_NUMBER}(?: / {_NUMBER})+")


def _is_number(cell: str) -> bool:
    """A count, an amount ("CNY 1,200,000") or a ratio ("10 / 5 / 1"): right-aligned in a table."""
    return _NUMERIC_CELL.fullmatch(cell) is not None


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]], gap: int = 2) -> list[str]:
    """A plain-text table: columns padded to their widest cell by display width, numbers right-aligned."""
    table = [list(header), *(list(row) for row in rows)]
    columns = max(len(row) for row in table)
    for row in table:
        row.extend([""] * (columns - len(row)))
    widths = [max(display_width(row[i]) for row in table) for i in range(columns)]
    numeric = [all(_is_number(row[i]) for row in table[1:] if row[i]) and any(row[i] for row in table[1:]) for i in range(columns)]
    lines = []
    for row in table:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - display_width(cell))
            cells.append(pad + cell if numeric[i] else cell + pad)
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def _has_cjk(text: str | None) -> bool:
    return bool(text) and any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def language_of(texts: Sequence[str | None]) -> str:
    """The language a deal is written in, for output when none is asked for: Chinese when any of its names
    has a Chinese character, English otherwise."""
    return "zh" if any(_has_cjk(text) for text in texts) else "en"


# C0 controls but tab and newline, DEL and the C1 controls: a terminal obeys them (ESC starts a sequence that can
# retitle the window, move the cursor or hide text), so text from a record never reaches one as a control.
_CONTROLS = {code: "\ufffd" for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS[0x0D] = "\ufffd"


def printable(text: str) -> str:
    """`text` with every control character but tab and newline shown as U+FFFD."""
    return text.translate(_CONTROLS)
