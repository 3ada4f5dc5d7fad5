"""From findings to coaching: what is shown, in which order, on how many cards.

Four steps, each read from the rules' traits and the playbook's priority
model, never from rule codes:

1. *Right for the stage*: a finding whose rule does not apply to the deal's
   phase is set aside (after the contract milestone the phase is after_contract).
2. *No contradictions*: a finding whose rule yields to a finding present on the
   same deal is set aside. Set-aside findings stay in the report's `suppressed`
   list with the reason, so nothing is hidden from an integrator.
3. *Priority*: every finding gets a score (engine.playbook.Priority) and a rank.
4. *One card per thing*: findings about the same person make one card; several
   findings of one rule (milestones, receivables, people with nothing else) make
   one card listing them; cards beyond the playbook's `shown` are folded, except
   blocking cards, which are always shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .phases import Phase
from .playbook import Playbook, Priority, StageModel
from .report import Card, Finding, Suppressed, assembled
from .rulebook import FindingRule, Mark, Rulebook, Severity, Subject

if TYPE_CHECKING:
    from .evaluation import Found


def deal_phase(model: StageModel, stage_index: int, reached: Iterable[str]) -> Phase:
    """The deal's phase: its stage's, or after_contract once a contract-signing milestone is reached."""
    return Phase.AFTER_CONTRACT if model.any_reached(set(reached), "signs_contract") else model.phase_of(stage_index)


def implied_milestones(model: StageModel, derived_names: set[str], reached: set[str]) -> dict[str, str]:
    """Milestones met though the record does not list them: milestone id -> the derived fact or the reached
    milestone that implies it (the review grades the deal: it is graded; the customer selected us: our bid is in)."""
    found = {}
    for stage in model.stages:
        for milestone in stage.milestones:
            if milestone.id not in reached:
                cause = next((name for name in milestone.implied_by if name in derived_names or name in reached), None)
                if cause is not None:
                    found[milestone.id] = cause
    return found


def select(
    rulebook: Rulebook, findings: list[Found], phase: Phase, implied: dict[str, str] | None = None, stage: str | None = None
) -> tuple[list[Found], list[Suppressed]]:
    """The findings right for `phase` (and, for a rule the playbook scoped to stages, for `stage`) that yield to
    nothing shown; and the ones set aside, with why.

    A finding yields to a finding of a code in its rule's `yields_to` that is itself shown. When both
    rules are about contacts, only a finding about the same person counts (two things said of one
    person); otherwise any finding on the deal does.
    """
    rules = rulebook.findings

    def out_of_stage(finding: Found) -> bool:
        scope = finding.rule.stages
        return scope is not None and stage is not None and stage not in scope

    in_phase = [
        f for f in findings
        if phase in f.rule.phases and not out_of_stage(f)
        and not (f.rule.subject == Subject.MILESTONE and f.subject in (implied or {}))
    ]
    by_code: dict[str, list[Found]] = {}
    for finding in in_phase:
        by_code.setdefault(finding.code, []).append(finding)
    decided: dict[tuple[str, str | None], str | None] = {}  # (code, subject) -> the code it yields to, or None

    def per_person(code: str, target: str) -> bool:
        return rules[code].subject == Subject.CONTACT and rules[target].subject == Subject.CONTACT

    def yields(finding: Found) -> str | None:
        if not finding.rule.yields_to:
            return None
        key = (finding.code, finding.subject)
        if key not in decided:
            decided[key] = next(
                (
                    target for target in finding.rule.yields_to
                    if target in by_code and any(
                        yields(other) is None
                        for other in by_code[target]
                        if not per_person(finding.code, target) or other.subject == finding.subject
                    )
                ),
                None,
            )
        return decided[key]

    implied = implied or {}
    kept, suppressed = [], []

    def set_aside(finding: Found, reason: str, detail: str) -> None:
        suppressed.append(assembled(Suppressed, {"code": finding.code, "subject": finding.subject, "reason": reason, "detail": detail}))

    for finding in findings:
        if finding.rule.subject == Subject.MILESTONE and finding.subject in implied:
            set_aside(finding, "implied", implied[finding.subject])
        elif phase not in finding.rule.phases:
            set_aside(finding, "phase", phase.value)
        elif out_of_stage(finding):
            set_aside(finding, "stage", stage or "")
        elif (target := yields(finding)) is not None:
            set_aside(finding, "yields_to", target)
        else:
            kept.append(finding)
    return kept, suppressed


def score(rule: FindingRule, priority: Priority, phase: Phase, days_to_close: int | None, purpose: str | None) -> int:
    """One finding's score under the priority model (see Priority's docstring)."""
    total = priority.severity[rule.severity]  # a StrEnum member finds its value's entry
    focus = priority.phase_focus.get(phase, [])
    focused = bool(rule.topics & set(focus))
    if focused:
        total += priority.focus if focus[0] in rule.topics else round(priority.focus * 2 / 3)
    if (focused or rule.severity == Severity.BLOCK) and days_to_close is not None and 0 <= days_to_close <= priority.urgency_days:
        total += round(priority.urgency * (1 - days_to_close / priority.urgency_days))
    if purpose and rule.topics & set(priority.purpose_topics.get(purpose, ())):  # type: ignore[call-overload]
        total += priority.purpose
    return total


def _card_key(finding: Found, rule: FindingRule, people_with_several: set[str]) -> str:
    if rule.subject == Subject.CONTACT and finding.subject in people_with_several:
        return f"person:{finding.subject}"
    return f"rule:{finding.code}"


def coach(
    rulebook: Rulebook,
    playbook: Playbook,
    findings: list[Found],
    *,
    phase: Phase,
    days_to_close: int | None,
    make: Callable[..., Finding],
    purpose: str | None = None,
    implied: dict[str, str] | None = None,
    stage: str | None = None,
) -> tuple[list[Finding], list[Card], list[Suppressed]]:
    """Findings in priority order (ranked, carded, folded), their cards, and what was set aside. `make` turns a
    finding found into the report's Finding with its rank, score, card and folding (engine.evaluation.Outcome.finding,
    which works out its evidence and chain): only the findings kept are made."""
    priority = playbook.priority
    kept, suppressed = select(rulebook, findings, phase, implied, stage)
    scored = {id(f): score(f.rule, priority, phase, days_to_close, purpose) for f in kept}
    kept.sort(key=lambda f: (-scored[id(f)], *rulebook.standing(f)))

    per_person: dict[str, int] = {}
    for finding in kept:
        if finding.rule.subject == Subject.CONTACT and finding.subject:
            per_person[finding.subject] = per_person.get(finding.subject, 0) + 1
    several = {person for person, count in per_person.items() if count > 1}

    members: dict[str, list[Found]] = {}
    for finding in kept:
        if finding.rule.mark == Mark.NEXT_MILESTONE:
            continue  # the review's purpose, stated in its header, not a card
        members.setdefault(_card_key(finding, finding.rule, several), []).append(finding)

    card_score = {key: scored[id(group[0])] + priority.per_extra_finding * min(len(group) - 1, 3) for key, group in members.items()}
    position_of = {id(f): index for index, f in enumerate(kept)}
    order = sorted(members.items(), key=lambda item: (-card_score[item[0]], position_of[id(item[1][0])]))
    blocking = sum(1 for _, group in order if group[0].severity == Severity.BLOCK)
    visible = max(priority.shown, blocking)
    placed: list[tuple[Found, str | None, bool]] = []  # finding, card key, folded: in rank order
    shapes = []
    for position, (key, group) in enumerate(order):
        folded = position >= visible and group[0].severity != Severity.BLOCK
        placed.extend((f, key, folded) for f in group)
        shapes.append((position, key, group, folded))
    placed.extend((f, None, False) for f in kept if f.rule.mark == Mark.NEXT_MILESTONE)

    ranked = [make(f, rank=rank, score=scored[id(f)], card=key, folded=folded) for rank, (f, key, folded) in enumerate(placed, 1)]
    final = {id(original): copy for (original, _, _), copy in zip(placed, ranked, strict=True)}
    cards = []
    for position, key, group, folded in shapes:
        kind = "person" if key.startswith("person:") else ("rule" if len(group) > 1 else "single")
        cards.append(
            assembled(Card, {
                "key": key, "kind": kind, "rank": position + 1, "score": card_score[key],
                "severity": min(group, key=lambda f: f.rule.standing[0]).severity,
                "subject": key.split(":", 1)[1] if kind == "person" else None, "folded": folded,
                "findings": [final[id(f)] for f in group], "text": None,
            })
        )
    return ranked, cards, suppressed


def stake(cards: list[Card], grade: str | None, amount: float, priority: Priority, funnel_min_amount: float) -> int:
    """How much a deal's coaching matters next to other deals: its top card's score, weighted by
    grade and (logarithmically) by amount against the funnel threshold (roll-up ordering)."""
    if not cards:
        return 0
    weight = priority.grade_weight.get(grade or "-", priority.grade_weight["-"])
    size = 1 + math.log10(max(amount / funnel_min_amount, 1.0)) / 2 if funnel_min_amount > 0 else 1.0
    return round(cards[0].score * weight * size)
