"""A message in a platform's markdown, within the platform's size limit measured after conversion.

A message too long for the platform keeps its first lines, cut at a line, and ends with a visible note
(…更多见完整报告 / … more in the full report): never a silently cut text.
"""

from __future__ import annotations

from dataclasses import dataclass

from .platforms import Platform

MORE = {"zh": "…更多见完整报告", "en": "… more in the full report"}


@dataclass(frozen=True)
class Fitted:
    """The content to send, and whether it was trimmed to fit (with how many bytes it measures against the limit)."""

    content: str
    trimmed: bool
    size: int


def fit(platform: Platform, title: str, markdown: str, lang: str, mentions: list[str] | None = None) -> Fitted:
    """`markdown` converted for `platform`, trimmed at a line (with the more-note) when it would exceed the limit."""
    mentions = mentions or []
    content = platform.content(markdown)
    size = platform.size(title, content, mentions)
    if size <= platform.limit_bytes:
        return Fitted(content, False, size)
    lines = content.split("\n")
    more = MORE.get(lang, MORE["en"])

    def candidate(count: int) -> str:
        return "\n".join([*lines[:count], "", more]) if count else more

    low, high = 0, len(lines) - 1  # the largest count of leading lines that fits with the note
    while low < high:
        middle = (low + high + 1) // 2
        if platform.size(title, candidate(middle), mentions) <= platform.limit_bytes:
            low = middle
        else:
            high = middle - 1
    if low == 0:  # not even the first line fits: cut it by characters
        first = lines[0]
        keep_low, keep_high = 0, len(first)
        while keep_low < keep_high:
            middle = (keep_low + keep_high + 1) // 2
            if platform.size(title, f"{first[:middle]}\n\n{more}", mentions) <= platform.limit_bytes:
                keep_low = middle
            else:
                keep_high = middle - 1
        content = f"{first[:keep_low]}\n\n{more}" if keep_low else more
    else:
        content = candidate(low)
    return Fitted(content, True, platform.size(title, content, mentions))
