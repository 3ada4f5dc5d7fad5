"""The pre-meeting brief: one page for a rep walking into a customer meeting.

Built from a review: the deal at a glance, each attendee (role, power, stance,
what the role cares about (M3.1), how to talk to the whole-brain quadrant
(M8), what we still need to learn from this person, which open risks this
meeting can reduce), the meeting objective (the best commitment to ask for and
the minimum acceptable one) and the questions to ask, in order.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from .errors import DealInputError, InputProblem
from .model import Deal
from .report import Finding, Report
from .rulebook import Severity

# Information gaps (findings that mean "we do not know X") and who can tell us, in the order to ask.
GAPS: dict[str, tuple[str, ...]] = {
    "DC301": ("insider", "procurement_organiser", "coach"),
    "DC309": ("procurement_organiser", "decision_maker", "insider", "coach"),
    "DC505": ("purchaser", "decision_maker", "coach"),
    "DC109": ("purchaser", "decision_maker"),
    "DC502": ("decision_maker", "user", "sponsor"),
    "DC501": ("decision_maker", "user"),
    "DC504": ("technical_gatekeeper", "user", "insider", "coach"),
    "DC506": ("user", "technical_gatekeeper"),
    "DC313": ("procurement_organiser", "insider", "coach"),
    "DC302": ("user", "insider", "procurement_organiser"),
    "DC705": ("insider", "coach", "sponsor"),
}
# Findings about one person that a meeting with that person works on directly.
PERSONAL = ("DC304", "DC303", "DC407", "DC410", "DC404", "DC405", "DC307", "DC308", "DC306", "DC707", "DC311", "DC312", "DC701", "DC704")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Attendee(_Out):
    """One person in the meeting, and what this meeting should do with them."""

    id: str
    name: str
    title: str | None
    roles: list[str]
    power: str
    stance: str
    supporter: list[str]
    brain: str | None
    ask: list[str]  # gap codes this person can answer
    risks: list[Finding]  # open findings this meeting can reduce


class Question(_Out):
    """A question to ask, whom to ask, and the finding it answers."""

    code: str
    ask: list[str]  # attendee ids


class Brief(_Out):
    """Everything the one-page brief shows."""

    meeting_date: dt.date
    purpose: str
    report: Report
    attendees: list[Attendee]
    best_commitment: str | None  # milestone id to push for
    minimum_commitment: str | None  # gap code to close, or None for "agree the next meeting"
    questions: list[Question]
    blocking: list[Finding]


def _kinds(contact) -> set[str]:
    return {r.value for r in contact.roles} | {k.value for k in contact.supporter}


def build_brief(
    deal: Deal, report: Report, attendees: list[str], meeting_date: dt.date, purpose: str, milestone_order: list[str]
) -> Brief:
    """The brief for a meeting with `attendees` (contact ids of the deal)."""
    people = {c.id: c for c in deal.contacts}
    unknown = [a for a in attendees if a not in people]
    if unknown:
        known = ", ".join(people) or "none"
        raise DealInputError("brief", [InputProblem("attendees", f"not contact ids of this deal: {', '.join(unknown)}; known: {known}")])
    findings = report.findings
    gaps = [f for f in findings if f.code in GAPS]
    rows = []
    for contact_id in attendees:
        contact = people[contact_id]
        kinds = _kinds(contact)
        ask = [f.code for f in gaps if kinds & set(GAPS[f.code])]
        risks = [f for f in findings if f.subject == contact_id and f.code in PERSONAL]
        rows.append(
            Attendee(
                id=contact.id, name=contact.name, title=contact.title, roles=[r.value for r in contact.roles],
                power=contact.power.value, stance=contact.stance.value, supporter=[k.value for k in contact.supporter],
                brain=contact.brain.value if contact.brain else None, ask=list(dict.fromkeys(ask)), risks=risks,
            )
        )
    questions = []
    for finding in gaps:
        askers = [row.id for row in rows if finding.code in row.ask]
        if askers and finding.code not in [q.code for q in questions]:
            questions.append(Question(code=finding.code, ask=askers))
    questions.sort(key=lambda q: list(GAPS).index(q.code))
    next_milestones = sorted((f.params["milestone"] for f in findings if f.code == "DC106"), key=milestone_order.index)
    return Brief(
        meeting_date=meeting_date,
        purpose=purpose,
        report=report,
        attendees=rows,
        best_commitment=next_milestones[0] if next_milestones else None,
        minimum_commitment=questions[0].code if questions else None,
        questions=questions,
        blocking=[f for f in findings if f.severity == Severity.BLOCK],
    )
