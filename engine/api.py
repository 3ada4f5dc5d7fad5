"""The public Python API: review a deal, gate a stage change, render the result.

Deals may be given as a `Deal`, a mapping (parsed JSON), or a path to a YAML /
JSON file. Errors are DealcoachError subclasses with specific messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..rules import catalog
from . import coaching, rendering
from .brief import Brief, build_brief
from .errors import DealcoachError, DealInputError, InputProblem
from .evaluation import evaluate
from .facts import Position, build_facts, locate
from .loading import check_deal, read_deal, read_document, validate_deal
from .model import Deal
from .playbook import PURPOSES, Playbook
from .playbook import load_playbook as _load_playbook
from .report import Changes, Finding, GateResult, Person, Report, StagePosition, UnmetMilestone, WhatIfResult
from .rulebook import Kind, Mark
from .version import VERSION
from .vocabulary import SupporterKind
from .whatif import merge_patch

SUPPORTER_KINDS = tuple(kind.value for kind in SupporterKind)
DealLike = Deal | Mapping[str, Any] | str | Path
PlaybookLike = Playbook | str | Path | None


class UsageError(DealcoachError):
    """A call the API cannot answer as asked (exit 2 on the command line)."""

    exit_code = 2


class UnknownStageError(UsageError):
    """A gate target that is not a stage of the deal's stage model (a usage error)."""


@lru_cache(maxsize=16)
def _cached_playbook(directory: str | None) -> Playbook:
    return _load_playbook(directory)


def load_playbook(playbook: PlaybookLike = None) -> Playbook:
    """The default playbook, or a company directory laid over it (cached per directory)."""
    if isinstance(playbook, Playbook):
        return playbook
    return _cached_playbook(str(Path(playbook).resolve()) if playbook is not None else None)


def load_deal(deal: DealLike, playbook: PlaybookLike = None) -> Deal:
    """Validate a deal given as a Deal, a mapping or a file path."""
    book = load_playbook(playbook)
    if isinstance(deal, Deal):
        return check_deal(deal, book, f"deal {deal.id}")
    if isinstance(deal, Mapping):
        return validate_deal(dict(deal), book)
    return read_deal(deal, book)


def _stage(position: Position, index: int) -> StagePosition:
    stage = position.model.stages[index]
    return StagePosition(index=index, id=stage.id, name=stage.name.model_dump())


def _step(position: Position, index: int) -> StagePosition:
    step = position.model.stages[index].buying_step
    return StagePosition(index=index, id=step.id, name=step.name.model_dump())


def _report(deal: Deal, book: Playbook, position: Position, gate_to: int | None, purpose: str | None = None) -> Report:
    rulebook = catalog()
    outcome = evaluate(rulebook, book.thresholds, build_facts(deal, position, gate_to=gate_to))
    implied = coaching.implied_milestones(position.model, {d.name for d in outcome.derived})
    reached = [found[1].id for spelling in deal.milestones if (found := position.model.find_milestone(spelling))]
    phase = coaching.deal_phase(position.model, position.stage_index, [*reached, *implied])
    days_to_close = (deal.expected_close - deal.as_of).days if deal.expected_close else None
    findings, cards, suppressed = coaching.coach(
        rulebook, book, outcome.findings, phase=phase, days_to_close=days_to_close, purpose=purpose, implied=implied
    )
    milestone_order = [m.id for stage in position.model.stages for m in stage.milestones]
    next_milestones = sorted(
        {f.params["milestone"] for f in findings if f.mark == Mark.NEXT_MILESTONE}, key=milestone_order.index
    )
    grades = [d.params["letter"] for d in outcome.derived if d.name == "grade"]
    qualified: dict[str, list[str]] = {}
    for derived in outcome.derived:
        if derived.name in SUPPORTER_KINDS:
            qualified.setdefault(derived.subject, []).append(derived.name)
    people = [
        Person(
            id=c.id, name=c.name, title=c.title, roles=[r.value for r in c.roles],
            qualified=[k for k in SUPPORTER_KINDS if k in qualified.get(c.id, ())], stance=c.stance.value, active=c.active,
        )
        for c in deal.contacts
    ]
    grade = grades[0] if grades else None
    return Report(
        deal_id=deal.id,
        deal_name=deal.name,
        owner=deal.owner,
        customer=deal.customer.name,
        amount=deal.amount,
        currency=deal.currency,
        as_of=deal.as_of,
        expected_close=deal.expected_close,
        stage_model=position.model.id,
        stage=_stage(position, position.stage_index),
        buying_step=_step(position, position.step_index),
        days_in_stage=(deal.as_of - deal.stage_entered).days,
        grade=grade,
        ruleset_version=f"{VERSION}+{book.version_tag}",
        phase=phase.value,
        purpose=purpose,
        next_milestones=next_milestones,
        stake=coaching.stake(cards, grade, deal.amount, book.priority, book.thresholds.funnel_min_amount),
        findings=findings,
        cards=cards,
        suppressed=suppressed,
        derived=outcome.derived,
        people=people,
    )


def review(deal: DealLike, *, playbook: PlaybookLike = None, purpose: str | None = None) -> Report:
    """The coaching for one deal: findings in priority order, on cards, folded beyond the playbook's limit.

    `purpose` (one of PURPOSES, e.g. "negotiation") ranks first what serves the coming meeting."""
    book = load_playbook(playbook)
    return _review_checked(load_deal(deal, book), book, purpose)


def _review_checked(checked: Deal, book: Playbook, purpose: str | None = None) -> Report:
    """Review a deal that load_deal or validate_deal has already checked."""
    if purpose is not None and purpose not in PURPOSES:
        raise UsageError(f"purpose {purpose!r} is not known; allowed: {', '.join(PURPOSES)}")
    position = locate(checked, book.stage_models[checked.stage_model])
    return _report(checked, book, position, gate_to=None, purpose=purpose)


def gate(deal: DealLike, to: str, *, playbook: PlaybookLike = None) -> GateResult:
    """May the deal advance to stage `to`? Unmet milestones and blocking risks say why not."""
    book = load_playbook(playbook)
    checked = load_deal(deal, book)
    model = book.stage_models[checked.stage_model]
    target = model.find_stage(to)
    if target is None:
        allowed = ", ".join(f"{s.id} ({s.name.zh})" for s in model.stages)
        raise UnknownStageError(f"{to!r} is not a stage of {model.id}; allowed: {allowed}")
    position = locate(checked, model)
    advance = target > position.stage_index
    report = _report(checked, book, position, gate_to=target if advance else None)
    unmet = []
    for finding in report.findings:
        if finding.mark == Mark.UNMET_MILESTONE:
            stage_index = finding.params["stage_index"]
            milestone = model.find_milestone(finding.params["milestone"])
            assert milestone is not None
            unmet.append(
                UnmetMilestone(
                    id=milestone[1].id, name=milestone[1].name.model_dump(), stage=model.stages[stage_index].id
                )
            )
    order = [m.id for stage in model.stages for m in stage.milestones]
    unmet.sort(key=lambda u: order.index(u.id))
    return GateResult(
        deal_id=checked.id,
        from_stage=_stage(position, position.stage_index),
        to_stage=_stage(position, target),
        allowed=not advance or not report.blocking,
        advance=advance,
        unmet_milestones=unmet,
        blocking=report.blocking,
        report=report,
    )


def _document(deal: DealLike) -> dict:
    """The deal as a plain document that a what-if change can patch."""
    if isinstance(deal, Deal):
        return deal.model_dump(mode="json")
    if isinstance(deal, Mapping):
        return dict(deal)
    document = read_document(deal)
    if not isinstance(document, dict):
        raise DealInputError(str(deal), [InputProblem("", f"expected a mapping of deal fields, got {type(document).__name__}")])
    return document


def _identity(finding) -> tuple[str, str | None]:
    return finding.code, finding.subject


def brief(
    deal: DealLike, attendees: list[str], meeting_date: dt.date, purpose: str, *, playbook: PlaybookLike = None
) -> Brief:
    """The pre-meeting brief for a meeting with `attendees` (contact ids) on `meeting_date`."""
    book = load_playbook(playbook)
    checked = load_deal(deal, book)
    report = _review_checked(checked, book)
    order = [m.id for stage in book.stage_models[checked.stage_model].stages for m in stage.milestones]
    return build_brief(catalog(), checked, report, attendees, meeting_date, purpose, order)


def _diff(before: Report, after: Report) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(findings gone, findings new, findings still there), a finding being its code and subject."""
    old = {_identity(f) for f in before.findings}
    new = {_identity(f) for f in after.findings}
    return (
        [f for f in before.findings if _identity(f) not in new],
        [f for f in after.findings if _identity(f) not in old],
        [f for f in after.findings if _identity(f) in old],
    )


def what_if(deal: DealLike, change: Mapping[str, Any], *, playbook: PlaybookLike = None) -> WhatIfResult:
    """Review the deal, apply `change` (see engine.whatif), review again, and compare."""
    book = load_playbook(playbook)
    document = _document(deal)
    before = _review_checked(validate_deal(document, book, "deal"), book)
    changed = validate_deal(merge_patch(document, dict(change)), book, "deal after the what-if change")
    after = _review_checked(changed, book)
    cleared, appeared, remaining = _diff(before, after)
    return WhatIfResult(change=dict(change), before=before, after=after, cleared=cleared, appeared=appeared, remaining=remaining)


def changes(previous: DealLike | Report, current: DealLike | Report, *, playbook: PlaybookLike = None) -> Changes:
    """What changed since the previous review: new and cleared risks, done and new actions, stage and grade movement."""
    book = load_playbook(playbook)
    before = previous if isinstance(previous, Report) else review(previous, playbook=book)
    after = current if isinstance(current, Report) else review(current, playbook=book)
    gone, new, _ = _diff(before, after)
    same_model = before.stage_model == after.stage_model
    return Changes(
        previous=before,
        current=after,
        days_between=(after.as_of - before.as_of).days,
        stage_moved=after.stage.index - before.stage.index if same_model else None,
        buying_step_moved=after.buying_step.index - before.buying_step.index if same_model else None,
        new_risks=[f for f in new if f.kind == Kind.RISK],
        cleared_risks=[f for f in gone if f.kind == Kind.RISK],
        new_actions=[f for f in new if f.kind == Kind.ACTION],
        done_actions=[f for f in gone if f.kind == Kind.ACTION],
    )


def render(
    result: Report | GateResult | WhatIfResult | Changes, *, lang: str = "zh", fmt: str = "text", playbook: PlaybookLike = None,
    show_all: bool = False, explain: bool = False,
) -> str:
    """A report or gate result as text, markdown or JSON, in Chinese or English.

    Text and markdown show the first cards only unless `show_all`; `explain` adds each finding's rule,
    record paths and reasoning. JSON always holds everything, folded findings marked `"folded": true`."""
    return rendering.Renderer(load_playbook(playbook)).render(result, lang=lang, fmt=fmt, show_all=show_all, explain=explain)


def render_text(result: Report | GateResult | WhatIfResult | Changes, *, lang: str = "zh", playbook: PlaybookLike = None) -> str:
    """Shorthand for render(..., fmt="text")."""
    return render(result, lang=lang, fmt="text", playbook=playbook)
