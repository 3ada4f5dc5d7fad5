"""The use cases of dealcoach over one playbook: the one object the CLI, the service, the pipeline and
the Python API call (reading a deal, review, gate, what-if, changes, brief, rendering, rule lookup).

    coach = Coach()                       # or Coach("path/to/company-playbook")
    report = coach.review(coach.deal("deal.yaml"))
    print(coach.render(report, lang="zh"))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..rules import catalog, documentation
from . import coaching
from .errors import DealcoachError
from .evaluation import evaluate
from .facts import Position, build_facts, locate, reached_milestones
from .loading import check_deal, deal_document, read_document, validate_deal
from .model import Deal
from .playbook import PURPOSES, Playbook
from .rendering import Renderer
from .report import Changes, Finding, GateResult, Person, Report, StagePosition, UnmetMilestone, WhatIfResult, assembled
from .phases import Phase
from .rulebook import FindingRule, Kind, Mark, Rulebook
from .version import VERSION
from .vocabulary import STATE_GRADE_RANK, SupporterKind
from .whatif import merge_patch

if TYPE_CHECKING:  # the brief's modules load when a brief is asked for (a gate or a review never does)
    from .brief import Brief

SUPPORTER_KINDS = tuple(kind.value for kind in SupporterKind)
DealLike = Deal | Mapping[str, Any] | str | Path


class UsageError(DealcoachError):
    """A call that cannot be answered as asked (exit 2 on the command line); `parameter` names the argument."""

    exit_code = 2

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class UnknownStageError(UsageError):
    """A gate target that is not a stage of the deal's stage model (a usage error)."""


def _stage(position: Position, index: int) -> StagePosition:
    stage = position.model.stages[index]
    return StagePosition(index=index, id=stage.id, name=stage.name.model_dump())


def _step(position: Position, index: int) -> StagePosition:
    step = position.model.stages[index].buying_step
    return StagePosition(index=index, id=step.id, name=step.name.model_dump())


def build_report(
    rulebook: Rulebook, book: Playbook, deal: Deal, position: Position, gate_to: int | None, purpose: str | None = None
) -> Report:
    """Evaluate the deal and turn the findings into coaching: phase, priorities, cards, the milestone to win next."""
    outcome = evaluate(rulebook, book.thresholds, build_facts(deal, position, gate_to=gate_to))
    reached = reached_milestones(deal, position.model)
    implied = coaching.implied_milestones(position.model, {d.name for d in outcome.derived}, reached)
    phase = coaching.deal_phase(position.model, position.stage_index, [*reached, *implied])
    days_to_close = (deal.expected_close - deal.as_of).days if deal.expected_close else None
    findings, cards, suppressed = coaching.coach(
        rulebook, book, outcome.findings, phase=phase, days_to_close=days_to_close, make=outcome.finding, purpose=purpose,
        implied=implied, stage=position.model.stages[position.stage_index].id,
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
        assembled(Person, {
            "id": c.id, "name": c.name, "title": c.title, "roles": [r.value for r in c.roles],
            "qualified": [k for k in SUPPORTER_KINDS if k in qualified.get(c.id, ())], "stance": c.stance.value, "active": c.active,
        })
        for c in deal.contacts
    ]
    grade = grades[0] if grades else None
    if grade is not None and deal.customer_state is not None:
        # M6.4 grades by the close date *and* the customer's state: the later of the two is the deal's grade
        grade = max(grade, "ABCD"[STATE_GRADE_RANK[deal.customer_state]])
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
        grade_to_confirm=grade == "A" and deal.customer_state is None,
        ruleset_version=f"{VERSION}+{book.version_tag}",
        phase=phase.value,
        purpose=purpose,
        next_milestones=next_milestones,
        milestones_reached=[m for m in milestone_order if m in reached or m in implied],
        stake=coaching.stake(cards, grade, deal.amount, book.priority, book.thresholds.funnel_min_amount),
        findings=findings,
        cards=cards,
        suppressed=suppressed,
        derived=outcome.derived,
        people=people,
    )


def _label(source: DealLike) -> str:
    """How errors name a deal source: its path, <stdin>, or <deal> for data."""
    if isinstance(source, str | Path):
        return "<stdin>" if str(source) == "-" else str(source)
    return "<deal>"


def _identity(finding: Finding) -> tuple[str, str | None]:
    return finding.code, finding.subject


def _diff(before: Report, after: Report) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(findings gone, findings new, findings still there), a finding being its code and subject."""
    old = {_identity(f) for f in before.findings}
    new = {_identity(f) for f in after.findings}
    return (
        [f for f in before.findings if _identity(f) not in new],
        [f for f in after.findings if _identity(f) not in old],
        [f for f in after.findings if _identity(f) in old],
    )


class Coach:
    """Every use case over one playbook. Build one per playbook and keep it: it holds the compiled wording."""

    def __init__(self, playbook: Playbook, rulebook: Rulebook | None = None):
        self.playbook = playbook
        self.rulebook = rulebook or playbook.rulebook or catalog()
        self.renderer = Renderer(playbook)
        self.renderer.check_templates([r for r in self.rulebook.findings.values() if r.origin == "company"])

    # -- reading ---------------------------------------------------------

    @staticmethod
    def document(source: DealLike, *, label: str | None = None) -> dict:
        """A deal as a plain mapping: from a Deal, a mapping, a YAML/JSON file path, or `-` (standard input)."""
        if isinstance(source, Deal):
            return source.model_dump(mode="json")
        if isinstance(source, Mapping):
            return dict(source)
        return deal_document(read_document(source), label or _label(source))

    def from_crm(
        self, crm: str, record: Any, *, as_of: dt.date, mapping: Mapping | None = None, label: str = "record", choose: str | None = None
    ) -> dict:
        """A CRM's own record converted through its mapping (the shipped one by default) into a deal document.
        A query response holding several records needs `choose`: the id or name of the one to convert."""
        from ..crm import load_mapping
        from ..crm.convert import one

        mapping = mapping or load_mapping(crm, None)
        return one(self.crm_records(crm, record, as_of=as_of, mapping=mapping, label=label), choose, label)

    @staticmethod
    def crm_records(crm: str, data: Any, *, as_of: dt.date, mapping: Mapping | None = None, label: str = "record") -> list:
        """Every record of a CRM input (a query response holds a page of them), each converted or with the reason
        it is not (crm.convert.Converted); `.notes` says what the input lacks (more pages to fetch)."""
        from ..crm import load_mapping
        from ..crm.convert import records

        return records(crm, data, as_of=as_of.isoformat(), mapping=mapping or load_mapping(crm, None), source=label)

    def deal(self, source: DealLike, *, as_of: dt.date | None = None, label: str | None = None) -> Deal:
        """A validated deal; `as_of` replaces the record's evaluation date. A Deal is checked against the playbook only."""
        if isinstance(source, Deal) and as_of is None:
            return check_deal(source, self.playbook, label or f"deal {source.id}")
        label = label or _label(source)
        document = self.document(source, label=label)
        if as_of is not None:
            document = as_it_stood(document, as_of)
        return validate_deal(document, self.playbook, label)

    # -- use cases -------------------------------------------------------

    def review(self, deal: DealLike, *, purpose: str | None = None) -> Report:
        """The coaching for one deal: findings in priority order, on cards, folded beyond the playbook's limit.
        `purpose` (one of PURPOSES, e.g. "negotiation") ranks first what serves the coming meeting."""
        if purpose is not None and purpose not in PURPOSES:
            raise UsageError(f"purpose {purpose!r} is not known; allowed: {', '.join(PURPOSES)}")
        checked = self.deal(deal)
        position = locate(checked, self.playbook.stage_models[checked.stage_model])
        return build_report(self.rulebook, self.playbook, checked, position, gate_to=None, purpose=purpose)

    def gate(self, deal: DealLike, to: str) -> GateResult:
        """May the deal advance to stage `to`? Unmet milestones and blocking risks say why not."""
        checked = self.deal(deal)
        model = self.playbook.stage_models[checked.stage_model]
        target = model.find_stage(to)
        if target is None:
            allowed = ", ".join(f"{s.id} ({s.name.zh})" for s in model.stages)
            raise UnknownStageError(f"{to!r} is not a stage of {model.id}; allowed: {allowed}")
        position = locate(checked, model)
        advance = target > position.stage_index
        report = build_report(self.rulebook, self.playbook, checked, position, gate_to=target if advance else None)
        unmet = []
        for finding in report.findings:
            if finding.mark == Mark.UNMET_MILESTONE:
                found = model.find_milestone(finding.params["milestone"])
                assert found is not None
                unmet.append(
                    UnmetMilestone(id=found[1].id, name=found[1].name.model_dump(), stage=model.stages[finding.params["stage_index"]].id)
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

    def what_if(self, deal: DealLike, change: Mapping[str, Any]) -> WhatIfResult:
        """Review the deal, apply `change` (see engine.whatif), review again, and compare."""
        document = self.document(deal)
        before = self.review(validate_deal(document, self.playbook, "deal"))
        after = self.review(validate_deal(merge_patch(document, dict(change)), self.playbook, "deal after the what-if change"))
        cleared, appeared, remaining = _diff(before, after)
        return WhatIfResult(change=dict(change), before=before, after=after, cleared=cleared, appeared=appeared, remaining=remaining)

    def changes(self, previous: DealLike | Report, current: DealLike | Report) -> Changes:
        """What changed since the previous review: new and cleared risks, done and new actions, stage and grade movement."""
        before = previous if isinstance(previous, Report) else self.review(previous)
        after = current if isinstance(current, Report) else self.review(current)
        if before.deal_id != after.deal_id:
            raise UsageError(f"the earlier review is of deal {before.deal_id!r}, this one of {after.deal_id!r}: compare a deal with itself",
                             "since")
        if before.as_of > after.as_of:
            raise UsageError(f"the earlier review is dated {before.as_of}, after this one ({after.as_of}): give the older one first", "since")
        gone, new, _ = _diff(before, after)
        left_behind = [f for f in gone if not self.looks_at(f.code, after.phase, after.stage.id)]
        gone = [f for f in gone if f not in left_behind]
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
            done_actions=[f for f in gone if f.kind == Kind.ACTION and _done(f, after)],
            left_behind=left_behind,
        )

    def looks_at(self, code: str, phase: str, stage_id: str) -> bool:
        """Whether the rule behind `code` looks at a deal in this phase and stage (its phases and stages): a finding
        gone after a move to where its rule does not look was left behind, not cleared."""
        rule = self.rule(code)
        return rule is None or rule.looks_at(phase, stage_id)

    def brief(self, deal: DealLike, attendees: list[str], meeting_date: dt.date, purpose: str) -> Brief:
        """The pre-meeting brief for a meeting with `attendees` (contact ids) on `meeting_date`.
        `purpose` is one of PURPOSES, its Chinese name (商务谈判, 技术交流 ...) or free text; the review behind
        the brief ranks first what serves the purpose it names (free text naming none: no purpose)."""
        from .brief import build_brief, resolve_purpose

        checked = self.deal(deal)
        if meeting_date < checked.as_of:
            raise UsageError(f"the meeting date {meeting_date} is before the deal's as_of {checked.as_of}: a brief prepares a coming "
                             "meeting (review the deal with --as-of for an earlier day)", parameter="date")
        ids = attendee_ids(checked, attendees)
        report = self.review(checked, purpose=resolve_purpose(purpose))
        order = [m.id for stage in self.playbook.stage_models[checked.stage_model].stages for m in stage.milestones]
        return build_brief(self.rulebook, checked, report, ids, meeting_date, purpose, order, self.playbook)

    # -- output ----------------------------------------------------------

    def render(
        self, result, *, lang: str = "zh", fmt: str = "text", show_all: bool = False, explain: bool = False, sent: bool = False
    ) -> str:
        """Any result (review, gate, what-if, changes, roll-up) as text, markdown or JSON, in `lang`; `sent` words
        a review for a group chat."""
        return self.renderer.render(result, lang=lang, fmt=fmt, show_all=show_all, explain=explain, sent=sent)

    def render_brief(self, brief: Brief, *, lang: str = "zh", fmt: str = "markdown") -> str:
        """A brief as HTML (one A4 page), markdown (one chat message) or JSON."""
        from .brief_rendering import BriefRenderer

        return BriefRenderer(self.renderer).render(brief, lang=lang, fmt=fmt)

    def localise(self, result, lang: str):
        """A result with every finding's and card's text filled in `lang` (for JSON answers)."""
        return self.renderer.localise_result(result, lang)

    # -- rules -----------------------------------------------------------

    def rules(self) -> list[FindingRule]:
        """Every finding rule, by code."""
        return sorted(self.rulebook.findings.values(), key=lambda r: r.code)

    @staticmethod
    def shipped_rule(code_or_symbol: str) -> FindingRule | None:
        """A shipped rule by code or symbol, as shipped (whatever the playbook did to it)."""
        return catalog().find(code_or_symbol)

    def switched_off(self) -> list[str]:
        """Codes of the shipped rules this playbook switches off."""
        return sorted(set(catalog().findings) - set(self.rulebook.findings))

    def rule(self, code_or_symbol: str) -> FindingRule | None:
        """One finding rule by its code or its symbol."""
        return self.rulebook.find(code_or_symbol)

    @staticmethod
    def rule_info(rule: FindingRule) -> dict:
        """What `dealcoach rules` and GET /v1/rules show of a rule: identity, traits and documentation."""
        return {
            "code": rule.code,
            "symbol": rule.symbol,
            "kind": rule.kind.value,
            "severity": rule.severity.value,
            "section": rule.section,
            "gate_only": rule.gate_only,
            "subject": rule.subject.value,
            "phases": [p.value for p in Phase if p in rule.phases],  # in the order of the sale
            "yields_to": list(rule.yields_to),
            "topics": sorted(t.value for t in rule.topics),
            "stages": sorted(rule.stages) if rule.stages is not None else None,
            "summary": rule.summary,
            "rationale": rule.rationale,
            "origin": rule.origin,
            "tuned": {trait: shipped for trait, shipped in rule.tuned},
            "doc": rule.doc or documentation(rule.key),
        }


def as_it_stood(document: dict, as_of: dt.date) -> dict:
    """The deal document evaluated on an earlier date: `as_of` replaced, and a contact's last_contact that had not
    happened yet by then left out (on that day it was not known; a stage entered later stays an error)."""
    document = {**document, "as_of": as_of.isoformat()}
    contacts = document.get("contacts")
    if isinstance(contacts, list):
        document["contacts"] = [_before(contact, as_of) for contact in contacts]
    return document


def _before(contact: Any, as_of: dt.date) -> Any:
    if not isinstance(contact, dict):
        return contact
    try:
        when = dt.date.fromisoformat(str(contact.get("last_contact")))
    except ValueError:
        return contact  # absent or unreadable: validation says so
    return {k: v for k, v in contact.items() if k != "last_contact"} if when > as_of else contact


def attendee_ids(deal: Deal, attendees: list[str]) -> list[str]:
    """Contact ids for attendees given by id or by name (陈国华, Anna Keller); UsageError naming those that are
    neither, or a name two contacts share."""
    by_id = {contact.id: contact for contact in deal.contacts}
    by_name: dict[str, list[str]] = {}
    for contact in deal.contacts:
        by_name.setdefault(" ".join(contact.name.split()).casefold(), []).append(contact.id)
    ids, unknown = [], []
    for given in attendees:
        if given in by_id:
            ids.append(given)
            continue
        named = by_name.get(" ".join(given.split()).casefold(), [])
        if len(named) == 1:
            ids.append(named[0])
        elif named:
            raise UsageError(f"attendee {given!r} is the name of several contacts ({', '.join(named)}): give the contact id", "attendees")
        else:
            unknown.append(given)
    if unknown:
        known = ", ".join(f"{c.id} ({c.name})" for c in deal.contacts) or "none"
        raise UsageError(f"attendees not among this deal's contacts: {', '.join(unknown)}; known: {known}", "attendees")
    return list(dict.fromkeys(ids))


def _done(action: Finding, after: Report) -> bool:
    """Whether an action that is no longer advised was done: a milestone's only when the milestone is now reached
    (a stage moved on without it is not a milestone done)."""
    milestone = action.mark in (Mark.NEXT_MILESTONE, Mark.UNMET_MILESTONE)
    return not milestone or action.subject in after.milestones_reached
