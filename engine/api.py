"""The public Python API: review a deal, gate a stage change, render the result.

Deals may be given as a `Deal`, a mapping (parsed JSON), or a path to a YAML /
JSON file. Errors are DealcoachError subclasses with specific messages. Each
function is a thin front on engine.coach.Coach, one per playbook (cached).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .coach import Coach, DealLike, UnknownStageError, UsageError
from .model import Deal
from .playbook import Playbook
from .playbook import load_playbook as _load_playbook
from .report import Changes, GateResult, Report, WhatIfResult

if TYPE_CHECKING:  # the brief's modules load when a brief is asked for
    from .brief import Brief

PlaybookLike = Playbook | str | Path | None

__all__ = ["Coach", "UnknownStageError", "UsageError", "brief", "changes", "coach", "gate", "load_deal", "load_playbook",
           "render", "render_text", "review", "what_if"]


@lru_cache(maxsize=16)
def _cached_playbook(directory: str | None) -> Playbook:
    return _load_playbook(directory)


def load_playbook(playbook: PlaybookLike = None) -> Playbook:
    """The default playbook, or a company directory laid over it (cached per directory)."""
    if isinstance(playbook, Playbook):
        return playbook
    return _cached_playbook(str(Path(playbook).resolve()) if playbook is not None else None)


_COACHES: dict[int, tuple[Playbook, Coach]] = {}  # by the playbook's identity; the playbook is kept alive with it


def coach(playbook: PlaybookLike = None) -> Coach:
    """The Coach for a playbook (the default one, a directory, or a loaded Playbook), built once per playbook."""
    book = load_playbook(playbook)
    found = _COACHES.get(id(book))
    if found is None:
        if len(_COACHES) >= 32:
            _COACHES.pop(next(iter(_COACHES)))
        found = _COACHES[id(book)] = (book, Coach(book))
    return found[1]


def load_deal(deal: DealLike, playbook: PlaybookLike = None) -> Deal:
    """Validate a deal given as a Deal, a mapping or a file path."""
    return coach(playbook).deal(deal)


def review(deal: DealLike, *, playbook: PlaybookLike = None, purpose: str | None = None) -> Report:
    """The coaching for one deal: findings in priority order, on cards, folded beyond the playbook's limit.

    `purpose` (one of PURPOSES, e.g. "negotiation") ranks first what serves the coming meeting."""
    return coach(playbook).review(deal, purpose=purpose)


def gate(deal: DealLike, to: str, *, playbook: PlaybookLike = None) -> GateResult:
    """May the deal advance to stage `to`? Unmet milestones and blocking risks say why not."""
    return coach(playbook).gate(deal, to)


def brief(
    deal: DealLike, attendees: list[str], meeting_date: dt.date, purpose: str, *, playbook: PlaybookLike = None
) -> Brief:
    """The pre-meeting brief for a meeting with `attendees` (contact ids) on `meeting_date`."""
    return coach(playbook).brief(deal, attendees, meeting_date, purpose)


def what_if(deal: DealLike, change: Mapping[str, Any], *, playbook: PlaybookLike = None) -> WhatIfResult:
    """Review the deal, apply `change` (see engine.whatif), review again, and compare."""
    return coach(playbook).what_if(deal, change)


def changes(previous: DealLike | Report, current: DealLike | Report, *, playbook: PlaybookLike = None) -> Changes:
    """What changed since the previous review: new and cleared risks, done and new actions, stage and grade movement."""
    return coach(playbook).changes(previous, current)


def render(
    result: Report | GateResult | WhatIfResult | Changes, *, lang: str = "zh", fmt: str = "text", playbook: PlaybookLike = None,
    show_all: bool = False, explain: bool = False,
) -> str:
    """A report or gate result as text, markdown or JSON, in Chinese or English.

    Text and markdown show the first cards only unless `show_all`; `explain` adds each finding's rule,
    record paths and reasoning. JSON always holds everything, folded findings marked `"folded": true`."""
    return coach(playbook).render(result, lang=lang, fmt=fmt, show_all=show_all, explain=explain)


def render_text(result: Report | GateResult | WhatIfResult | Changes, *, lang: str = "zh", playbook: PlaybookLike = None) -> str:
    """Shorthand for render(..., fmt="text")."""
    return render(result, lang=lang, fmt="text", playbook=playbook)
