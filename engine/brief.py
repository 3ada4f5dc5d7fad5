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
from .rulebook import Mark, Rulebook, Severity, Subject

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
    rulebook: Rulebook, deal: Deal, report: Report, attendees: list[str], meeting_date: dt.date, purpose: str,
    milestone_order: list[str],
) -> Brief:
    """The brief for a meeting with `attendees` (contact ids of the deal).

    Information gaps are the findings whose rule `asks` someone; a person's risks are
    the findings whose rule is about a contact; questions come in the findings' priority order.
    """
    people = {c.id: c for c in deal.contacts}
    unknown = [a for a in attendees if a not in people]
    if unknown:
        known = ", ".join(people) or "none"
        raise DealInputError("brief", [InputProblem("attendees", f"not contact ids of this deal: {', '.join(unknown)}; known: {known}")])
    findings = report.findings
    rules = rulebook.findings
    gaps = [f for f in findings if rules[f.code].asks]
    rows = []
    for contact_id in attendees:
        contact = people[contact_id]
        kinds = _kinds(contact)
        ask = [f.code for f in gaps if kinds & set(rules[f.code].asks)]
        risks = [f for f in findings if f.subject == contact_id and rules[f.code].subject == Subject.CONTACT]
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
    next_milestones = sorted((f.params["milestone"] for f in findings if f.mark == Mark.NEXT_MILESTONE), key=milestone_order.index)
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
