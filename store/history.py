"""A deal's history from the decision log: stage and buying-step moves, risks appearing and clearing, days in
each stage, gates asked, and how it ended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from ..engine.report import StagePosition
from .records import Decision, Outcome


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Risk(Frozen):
    """A risk as the history names it: its code and whom it is about."""

    code: str
    subject: str | None = None
    severity: str


class Event(Frozen):
    """What changed at one evaluation date against the one before (the first: where the deal stood)."""

    as_of: dt.date
    decision_id: str
    first: bool = False
    stage: StagePosition
    stage_from: StagePosition | None = None
    buying_step: StagePosition
    buying_step_from: StagePosition | None = None
    grade: str | None = None
    grade_changed: bool = False
    grade_from: str | None = None
    appeared: list[Risk] = []
    cleared: list[Risk] = []
    left_behind: list[Risk] = []  # gone only because the deal moved to a stage their rules do not look at: not cleared
    gates: list[dict] = []  # {"to": stage id, "allowed": bool}
    past_blocked_gate: dt.date | None = None  # moved to a stage a gate had refused on this date, with no gate allowing it since
    ruleset_version: str


class StageStay(Frozen):
    """How long the deal stood at one stage: from the day it entered to the day it entered the next (or the last review)."""

    stage: StagePosition
    entered: dt.date
    left: dt.date | None
    days: int


class History(Frozen):
    """The deal's timeline, oldest first."""

    deal_id: str
    deal_name: str
    customer: str | None = None
    owner: str | None
    decisions: int
    reviews: int = 0
    gates: int = 0
    first: dt.date
    last: dt.date
    events: list[Event]
    stages: list[StageStay]
    open_risks: list[Risk]
    outcome: dict | None = None


SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def _risks(decision: Decision) -> dict[tuple[str, str | None], Risk]:
    """The risks a review found, blocking ones first, then in the review's own order. Folded ones count: a risk
    folded below the card limit is still there, and its going away later is not a clearing."""
    shown = [f for f in decision.findings if f.kind == "risk"]
    shown.sort(key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
    return {(f.code, f.subject): Risk(code=f.code, subject=f.subject, severity=f.severity) for f in shown}


LooksAt = Callable[[str, str, str], bool]  # (rule code, phase, stage id) -> does the rule look at a deal there (Coach.looks_at)


def history(decisions: list[Decision], outcome: Outcome | None = None, looks_at: LooksAt | None = None) -> History:
    """The timeline of one deal's logged decisions (oldest first, as Store.deal_decisions gives them). With
    `looks_at`, a risk gone after a move to a stage its rule does not look at is told apart from one cleared."""
    if not decisions:
        raise ValueError("a history needs at least one decision")
    by_day: dict[dt.date, list[Decision]] = {}
    for decision in decisions:
        by_day.setdefault(decision.as_of, []).append(decision)
    events: list[Event] = []
    before: Decision | None = None
    refused: dict[str, dt.date] = {}  # stage id -> when a gate to it was last refused (and not allowed since)
    for day, same_day in by_day.items():
        reviews = [d for d in same_day if d.kind != "gate"] or same_day
        now = reviews[-1]
        gates = [{"to": d.to_stage, "allowed": d.allowed} for d in same_day if d.kind == "gate"]
        was, is_ = (_risks(before) if before else {}), _risks(now)
        digest, old = now.digest, before.digest if before else None
        moved = old is not None and (old.stage_model, old.stage.id) != (digest.stage_model, digest.stage.id)
        stepped = old is not None and (old.stage_model, old.buying_step.id) != (digest.stage_model, digest.buying_step.id)
        changed = old is not None and old.grade != digest.grade
        appeared = [risk for key, risk in is_.items() if key not in was]
        gone = [risk for key, risk in was.items() if key not in is_]
        behind = [r for r in gone if looks_at is not None and not looks_at(r.code, digest.phase, digest.stage.id)]
        cleared = [r for r in gone if r not in behind]
        past_gate = refused.get(digest.stage.id) if moved else None
        for gate in gates:  # after the move is judged: a gate asked today speaks for the moves to come
            if gate["allowed"]:
                refused.pop(gate["to"], None)
            elif gate["to"]:
                refused[gate["to"]] = day
        if before is None or moved or stepped or changed or appeared or gone or gates:
            events.append(Event(
                as_of=day, decision_id=now.id, first=before is None, stage=digest.stage, stage_from=old.stage if moved else None,
                buying_step=digest.buying_step, buying_step_from=old.buying_step if stepped else None, grade=digest.grade,
                grade_changed=changed, grade_from=old.grade if changed else None,
                appeared=appeared if before else list(is_.values()), cleared=cleared, left_behind=behind,
                gates=gates, past_blocked_gate=past_gate, ruleset_version=now.ruleset_version,
            ))
        before = now
    last = decisions[-1]
    customer = last.deal.get("customer")
    return History(
        deal_id=last.deal_id, deal_name=last.digest.deal_name, owner=last.digest.owner, decisions=len(decisions),
        customer=customer.get("name") if isinstance(customer, dict) else None,
        reviews=sum(1 for d in decisions if d.kind != "gate"), gates=sum(1 for d in decisions if d.kind == "gate"),
        first=decisions[0].as_of, last=last.as_of, events=events, stages=_stays(decisions), open_risks=list(_risks(before).values()),
        outcome=None if outcome is None else {"result": outcome.result, "closed_on": outcome.closed_on, "reason": outcome.reason},
    )


def _stays(decisions: list[Decision]) -> list[StageStay]:
    """Per stage reached, in order: the day the deal entered it (its own record's stage_entered), and the day it
    entered the next one; the stage it stands at now runs to the last review."""
    entries: list[tuple[StagePosition, dt.date]] = []
    for decision in [d for d in decisions if d.kind != "gate"] or decisions:  # a gate's deal may stand at the stage a move left
        stage = decision.digest.stage
        entered = dt.date.fromisoformat(decision.deal.get("stage_entered", decision.deal["as_of"]))
        if not entries or entries[-1][0].id != stage.id:
            entries.append((stage, entered))
    stays = []
    for index, (stage, entered) in enumerate(entries):
        left = entries[index + 1][1] if index + 1 < len(entries) else None
        end = left or decisions[-1].as_of
        stays.append(StageStay(stage=stage, entered=entered, left=left, days=max(0, (end - entered).days)))
    return stays
