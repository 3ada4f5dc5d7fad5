"""The pre-meeting brief: one page for a rep walking into a customer meeting.

The meeting's purpose decides what the brief leads with. A purpose is one of
PURPOSES (first visit, technical exchange, proposal, negotiation, tender
clarification, acceptance), named in English or Chinese or recognised in free
text ("最终价格和付款条款" is a negotiation); free text that names none of them is
kept as the stated purpose and the brief falls back to the review's findings.

Built from a review ranked for that purpose: the lines the purpose leads with
(for a price meeting: how far we may concede, what we ask in return, the floor,
who decides on both sides), the best commitment to ask for and the minimum one,
and each attendee: what the role cares about (M3.1), how to talk to the
whole-brain quadrant (M8), the question to put to this person, what we want
them to do after the meeting, and which open risks about them this meeting can
reduce.

Everything here is language-free: a `Line` is a term key of the playbook's term
tables (`purpose.*`) with the names, amounts and term keys it is filled with;
engine.brief_rendering words it.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, ConfigDict

from .model import Contact, Deal
from .playbook import PURPOSES, Playbook, Thresholds
from .report import Finding, Report
from .rulebook import Mark, Rulebook, Severity, Subject
from .vocabulary import BudgetEvidence, Credit, DecisionMode, Role, Stance, SupporterKind

# How a purpose may be written: the ids, their Chinese names and a few common spellings.
PURPOSE_SPELLINGS: dict[str, str] = {
    "first_visit": "first_visit", "first visit": "first_visit", "首次拜访": "first_visit", "初次拜访": "first_visit",
    "technical_exchange": "technical_exchange", "technical exchange": "technical_exchange", "技术交流": "technical_exchange",
    "proposal": "proposal", "方案汇报": "proposal", "方案讲解": "proposal",
    "negotiation": "negotiation", "商务谈判": "negotiation", "价格谈判": "negotiation", "谈价格": "negotiation",
    "tender_clarification": "tender_clarification", "tender clarification": "tender_clarification",
    "标书澄清": "tender_clarification", "澄清": "tender_clarification",
    "acceptance": "acceptance", "验收": "acceptance",
}
# Words that give a free-text purpose away, checked in this order (a price talk about a tender
# clarification is still a clarification: nothing may be negotiated there).
PURPOSE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tender_clarification", ("澄清", "答疑", "clarification")),
    ("acceptance", ("验收", "acceptance", "sign-off", "sign off")),
    ("negotiation", ("价格", "价钱", "报价", "降价", "压价", "让价", "付款", "谈判", "合同条款", "商务条款",
                     "price", "pricing", "negotiat", "payment", "discount", "commercial terms")),
    ("technical_exchange", ("技术", "technical")),
    ("proposal", ("方案", "汇报", "proposal", "presentation")),
    ("first_visit", ("首次", "初次", "第一次", "初访", "拜访", "first visit", "first meeting", "introduc")),
)


def resolve_purpose(text: str) -> str | None:
    """The PURPOSES id a stated purpose names or gives away, or None for a purpose the brief has no plan for."""
    spoken = re.sub(r"\s+", " ", text.strip().lower().replace("-", " "))
    if spoken in PURPOSE_SPELLINGS:
        return PURPOSE_SPELLINGS[spoken]
    if spoken.replace(" ", "_") in PURPOSES:
        return spoken.replace(" ", "_")
    for purpose, words in PURPOSE_WORDS:
        if any(word in spoken for word in words):
            return purpose
    return None


# A person's roles, most telling first: their question and what we want of them follow the first that has one.
ROLE_ORDER = (
    Role.DECISION_MAKER, Role.TECHNICAL_GATEKEEPER, Role.PROCUREMENT_ORGANISER, Role.PURCHASER, Role.OPINION_LEADER, Role.USER,
)


def role_order(purpose: str | None) -> tuple[Role, ...]:
    """Roles most telling first for this purpose: in a negotiation the one who handles the money is asked about the money."""
    if purpose == "negotiation":
        return tuple(sorted(ROLE_ORDER, key=lambda r: r not in (Role.DECISION_MAKER, Role.PURCHASER)))
    return ROLE_ORDER


INSIDE = "inside"  # a person who supports us from the inside (insider or coach): their own question
GENERAL = "general"  # the plan of a brief without a known purpose


CONFIDANTS = {"insider", "coach"}  # supporters whose help must not show in front of their colleagues (M4.1)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Line(_Out):
    """One line of the brief: a term key and what it is filled with.

    `text` values are shown as they are (the rep's words; `milestone` a milestone id, `question` the
    rule whose question is meant), `names` joined, `money` values as amounts, `terms` values as the
    joined wording of those term keys.
    """

    key: str
    text: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    money: dict[str, float] = {}
    terms: dict[str, list[str]] = {}


class Question(_Out):
    """A question to ask and whom to ask: a rule's information gap (`code`) or the purpose's own (`line`)."""

    code: str | None = None
    line: Line | None = None
    ask: list[str]  # attendee ids

    @property
    def ident(self) -> str:
        return self.code or (self.line.key if self.line else "")


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
    questions: list[Question]  # what to ask this person, most important first
    after: Line  # what we want this person to do after the meeting
    risks: list[Finding]  # open findings this meeting can reduce
    privately: bool = False  # our insider or coach with others of the customer in the room: ask before, alone (M4.1)


class Brief(_Out):
    """Everything the one-page brief shows."""

    meeting_date: dt.date
    purpose: str  # as stated
    purpose_id: str | None  # the PURPOSES id it names, or None
    report: Report
    lead: list[Line]  # what the purpose leads with, most important first (never trimmed: the first line)
    attendees: list[Attendee]
    best_commitment: str | None  # milestone id to push for
    best: Line
    minimum: Line
    minimum_commitment: str | None  # the gap code of the minimum goal, when it is one
    questions: list[Question]  # every question, in the order to ask them
    blocking: list[Finding]


def _kinds(contact: Contact) -> set[str]:
    return {r.value for r in contact.roles} | {k.value for k in contact.supporter}


def _inside(contact: Contact) -> bool:
    return bool({SupporterKind.INSIDER, SupporterKind.COACH} & set(contact.supporter)) and contact.stance != Stance.OPPOSES


def _names(contacts: list[Contact], role: Role) -> list[str]:
    return [c.name for c in contacts if c.active and role in c.roles]


class _Plan:
    """What one purpose leads with, for one deal."""

    def __init__(self, deal: Deal, purpose: str | None, thresholds: Thresholds):
        self.deal = deal
        self.purpose = purpose or GENERAL
        self.thresholds = thresholds

    # -- the negotiation (what we may concede, what we ask in return, the floor, who decides) ------

    def _quote(self) -> float:
        quote = self.deal.negotiation.our_quote
        return quote if quote is not None else self.deal.amount

    def hold_price(self) -> bool:
        """The customer chose us and its budget covers our quote: no reason to concede."""
        budget = self.deal.budget
        return (
            self.deal.negotiation.chosen_us is True
            and budget.amount is not None
            and budget.evidence not in (BudgetEvidence.NONE, BudgetEvidence.OUR_ESTIMATE)
            and budget.amount >= self._quote()
        )

    def open_payment(self) -> list[str]:
        """The payment terms still open, as trade term keys (M9.1: clear payment terms in the contract)."""
        terms = self.deal.payment_terms
        items = []
        if terms.deposit_percent is None and terms.agreed is not True:
            items.append("purpose.trade.deposit")
        if terms.agreed is not True:
            items.append("purpose.trade.schedule_of_payment")
        if terms.acceptance_criteria_agreed is not True:
            items.append("purpose.trade.acceptance")
        if terms.payment_signer_known is not True:
            items.append("purpose.trade.signer")
        return items

    def trades(self) -> list[str]:
        """What we ask for in return for a concession: the open payment terms first, then volume, schedule, a reference.
        A customer whose credit is watched or poor (M6.3) is asked for security first, and never for more volume."""
        if self.deal.customer.credit in (Credit.WATCH, Credit.POOR):
            items = ["purpose.trade.guarantee", *self.open_payment(), "purpose.trade.schedule"]
        else:
            items = [*self.open_payment(), "purpose.trade.volume", "purpose.trade.schedule"]
        if self.deal.implementation.reference_agreed is not True:
            items.append("purpose.trade.reference")
        return items

    def _deciders(self) -> list[Line]:
        contacts = self.deal.contacts
        deciders = _names(contacts, Role.DECISION_MAKER)
        buyers = [n for n in _names(contacts, Role.PURCHASER) + _names(contacts, Role.PROCUREMENT_ORGANISER) if n not in deciders]
        mode = [f"purpose.mode.{self.deal.decision.mode.value}"]
        if deciders and buyers:
            theirs = Line(
                key="purpose.negotiation.theirs_with_buyer", names={"decider": deciders, "buyer": list(dict.fromkeys(buyers))}, terms={"mode": mode}
            )
        elif deciders:
            theirs = Line(key="purpose.negotiation.theirs", names={"decider": deciders}, terms={"mode": mode})
        else:
            theirs = Line(key="purpose.negotiation.theirs_unknown")
        owner = {"owner": self.deal.owner} if self.deal.owner else {}
        has_floor = self.deal.negotiation.walk_away is not None
        ours = Line(key=f"purpose.negotiation.ours{'' if has_floor else '_no_floor'}{'' if owner else '_unnamed'}", text=owner)
        return [theirs, ours]

    def negotiation(self) -> tuple[list[Line], Line, Line]:
        deal, quote = self.deal, self._quote()
        floor = deal.negotiation.walk_away
        trades = self.trades()[:5]
        lines = []
        if self.hold_price():
            lines.append(Line(key="purpose.negotiation.hold", money={"quote": quote, "budget": deal.budget.amount or 0}))
            lines.append(Line(key="purpose.negotiation.trade_hold", terms={"trades": trades}))
            if floor is not None:
                lines.append(Line(key="purpose.negotiation.floor", money={"floor": floor}))
        else:
            if floor is not None:
                lines.append(Line(key="purpose.negotiation.room", money={"quote": quote, "floor": floor, "room": quote - floor}))
            else:
                lines.append(Line(key="purpose.negotiation.no_floor", money={"quote": quote}))
            lines.append(Line(key="purpose.negotiation.trade", terms={"trades": trades}))
        pressure = deal.price_pressure
        if pressure.ultimatums >= self.thresholds.ultimatums_to_verify and not pressure.verified:
            lines.append(Line(key="purpose.negotiation.verify", text={"count": str(pressure.ultimatums)}))
        free = [c for c in deal.negotiation.concessions if c.gained is None]
        if free:
            lines.append(Line(key="purpose.negotiation.conceded", money={"conceded": sum(c.amount for c in free)}))
        if deal.negotiation.scope_may_change:
            lines.append(Line(key="purpose.negotiation.scope"))
        lines += self._deciders()
        payment = [key.replace("purpose.trade.", "purpose.pay.") for key in self.open_payment()[:2]]
        best = Line(key="purpose.negotiation.best", money={"quote": quote})
        if self.hold_price():
            minimum = Line(key="purpose.negotiation.minimum_hold" + ("" if payment else "_paid"), money={"quote": quote}, terms={"payment": payment})
        elif floor is not None:
            minimum = Line(key="purpose.negotiation.minimum_floor" + ("" if payment else "_paid"), money={"floor": floor}, terms={"payment": payment})
        else:
            minimum = Line(key="purpose.negotiation.minimum" + ("" if payment else "_paid"), terms={"payment": payment})
        return lines, best, minimum

    # -- the other purposes --------------------------------------------------------------------

    def technical_exchange(self) -> list[Line]:
        deal = self.deal
        keepers = _names(deal.contacts, Role.TECHNICAL_GATEKEEPER)
        who = {"keeper": keepers} if keepers else {}
        lines = [
            Line(key="purpose.technical_exchange.differ", text={"differentiation": deal.differentiation})
            if deal.differentiation else Line(key="purpose.technical_exchange.win" + ("" if who else "_unnamed"), names=who)
        ]
        for c in deal.contacts:
            if c.active and Role.TECHNICAL_GATEKEEPER in c.roles and (
                c.coach_conditions.trusts_our_capability is False or c.stance == Stance.OPPOSES
            ):
                lines.append(Line(key="purpose.technical_exchange.doubts", text={"name": c.name}))
        for rival in deal.competitors:
            if rival.shaped_specs:
                lines.append(Line(key="purpose.technical_exchange.rival_specs", text={"rival": rival.name}))
        return lines

    def tender_clarification(self) -> list[Line]:
        lines = [Line(key="purpose.tender_clarification.channel"), Line(key="purpose.tender_clarification.clauses")]
        if self.deal.tender.accompanying_suspected:
            lines.append(Line(key="purpose.tender_clarification.accompanying"))
        return lines

    def acceptance(self) -> list[Line]:
        deal = self.deal
        lines = [Line(key="purpose.acceptance.criteria")]
        if deal.payment_terms.payment_signer_known is not True:
            lines.append(Line(key="purpose.acceptance.payment_signer"))
        else:
            lines.append(Line(key="purpose.acceptance.payment"))
        if deal.implementation.reference_agreed is not True:
            lines.append(Line(key="purpose.acceptance.reference"))
        if deal.implementation.next_purchase_identified is not True:
            lines.append(Line(key="purpose.acceptance.next_purchase"))
        return lines

    def first_visit(self) -> list[Line]:
        deal = self.deal
        lines = [Line(key="purpose.first_visit.qualify")]
        if deal.budget.amount is None or deal.budget.evidence in (BudgetEvidence.NONE, BudgetEvidence.UNKNOWN):
            lines.append(Line(key="purpose.first_visit.budget"))
        if deal.decision.mode == DecisionMode.UNKNOWN:
            lines.append(Line(key="purpose.first_visit.decision"))
        return lines

    def proposal(self) -> list[Line]:
        deal = self.deal
        lines = [
            Line(key="purpose.proposal.differ", text={"differentiation": deal.differentiation})
            if deal.differentiation else Line(key="purpose.proposal.solve")
        ]
        if deal.objective.confirmed_by_customer is not True:
            lines.append(Line(key="purpose.proposal.confirm"))
        return lines

    def lead(self) -> tuple[list[Line], Line | None, Line | None]:
        """The purpose's lines, and its own best and minimum commitments (None without a purpose: the review's)."""
        if self.purpose == "negotiation":
            return self.negotiation()
        if self.purpose == GENERAL:
            return [], None, None
        return getattr(self, self.purpose)(), Line(key=f"purpose.{self.purpose}.best"), Line(key=f"purpose.{self.purpose}.minimum")

    # -- the people ----------------------------------------------------------------------------

    def question_kinds(self, contact: Contact) -> list[str]:
        """The kinds whose purpose question fits this person, best first."""
        roles = [r.value for r in role_order(self.purpose) if r in contact.roles]
        if _inside(contact) and self.purpose == "negotiation" and self.deal.price_pressure.concession_requested:
            return [INSIDE, *roles]  # M7.5: learn from the inside whether the pressure is real
        return [*roles, INSIDE] if _inside(contact) else roles

    def question(self, kind: str) -> Line:
        if self.purpose == "negotiation" and kind == Role.PURCHASER.value and not self.open_payment():
            return Line(key="purpose.negotiation.ask.purchaser_paid")
        if self.purpose == "negotiation" and kind == Role.DECISION_MAKER.value:
            return Line(key="purpose.negotiation.ask.decision_maker", money={"quote": self._quote()})
        return Line(key=f"purpose.{self.purpose}.ask.{kind}")

    def after(self, contact: Contact, kind: str) -> Line:
        """What we want this person to do after the meeting, in the part they play in it (`kind`)."""
        if contact.stance == Stance.OPPOSES:
            return Line(key="purpose.after.opposes")
        return Line(key=f"purpose.{self.purpose}.after.{kind}")


def build_brief(
    rulebook: Rulebook, deal: Deal, report: Report, attendees: list[str], meeting_date: dt.date, purpose: str,
    milestone_order: list[str], playbook: Playbook | None = None,
) -> Brief:
    """The brief for a meeting with `attendees` (contact ids of the deal, as engine.coach.attendee_ids resolves
    them: known, each once), for the stated `purpose`.

    Information gaps are the findings whose rule `asks` someone; for a known purpose only those whose
    topics serve it are asked. Each gap goes to the attendee who answers it best (the rule's `asks`
    order), each attendee also gets the purpose's question for the part they play (their role, or the
    insider's question); a person's risks are the findings about them. With a purpose its questions
    come first, then the gaps in the findings' priority order; without one, the gaps first.
    """
    people = {c.id: c for c in deal.contacts}
    qualified = {person.id: set(person.qualified) for person in report.people}
    purpose_id = resolve_purpose(purpose)
    plan = _Plan(deal, purpose_id, playbook.thresholds if playbook else Thresholds())
    rules = rulebook.findings
    findings = report.findings
    serving = set(playbook.priority.purpose_topics.get(purpose_id, ())) if playbook and purpose_id else set()  # type: ignore[call-overload]
    gaps = [f for f in findings if rules[f.code].asks]

    # each information gap to the one attendee who answers it best
    given: dict[str, list[Question]] = {a: [] for a in attendees}
    able: dict[str, list[str]] = {a: [] for a in attendees}
    gap_questions: list[Question] = []
    for finding in gaps:
        rule = rules[finding.code]
        if finding.code in [q.code for q in gap_questions]:
            continue
        candidates = [a for a in attendees if _kinds(people[a]) & set(rule.asks)]
        for a in candidates:
            if finding.code not in able[a]:
                able[a].append(finding.code)
        if not candidates or (purpose_id and not rule.topics & serving):
            continue
        best = min(candidates, key=lambda a: min(rule.asks.index(k) for k in _kinds(people[a]) if k in rule.asks))
        question = Question(code=finding.code, ask=[best])
        gap_questions.append(question)
        given[best].append(question)

    # the purpose's own question for each attendee, by role; a question already put to someone is not repeated
    asked: set[str] = set()
    purpose_questions: list[Question] = []
    part: dict[str, str] = {}  # the part each attendee plays in this meeting: the kind of their question
    for a in attendees:
        contact = people[a]
        fresh = [(kind, plan.question(kind)) for kind in plan.question_kinds(contact)]
        fresh = [(kind, line) for kind, line in fresh if line.key not in asked]
        part[a], line = fresh[0] if fresh else ("anyone", Line(key=f"purpose.{plan.purpose}.ask.anyone"))
        asked.add(line.key)
        question = Question(line=line, ask=[a])
        purpose_questions.append(question)
        given[a].append(question)

    if purpose_id == "negotiation" and plan.open_payment() and "purpose.negotiation.ask.purchaser" not in asked and attendees:
        # the payment terms are half of a price meeting: someone must be asked about them
        deciders = [a for a in attendees if Role.DECISION_MAKER in people[a].roles] or attendees
        question = Question(line=Line(key="purpose.negotiation.ask.purchaser"), ask=[deciders[0]])
        purpose_questions.append(question)
        given[deciders[0]].append(question)

    rows = []
    for a in attendees:
        contact = people[a]
        risks = [f for f in findings if f.subject == a and rules[f.code].subject == Subject.CONTACT]
        own = given[a]
        if purpose_id:  # the purpose's question first, the gaps that serve it after
            own = sorted(own, key=lambda q: 0 if q.line else 1)
        rows.append(
            Attendee(
                id=contact.id, name=contact.name, title=contact.title, roles=[r.value for r in contact.roles],
                power=contact.power.value, stance=contact.stance.value, supporter=[k.value for k in contact.supporter],
                brain=contact.brain.value if contact.brain else None, ask=able[a], questions=own,
                after=plan.after(contact, part[a]), risks=risks,
                privately=len(attendees) > 1 and bool(CONFIDANTS & ({k.value for k in contact.supporter} | qualified.get(contact.id, set()))),
            )
        )
    questions = [*purpose_questions, *gap_questions] if purpose_id else [*gap_questions, *purpose_questions]

    next_milestones = sorted((f.params["milestone"] for f in findings if f.mark == Mark.NEXT_MILESTONE), key=milestone_order.index)
    best_milestone = next_milestones[0] if next_milestones else None
    lead, best, minimum = plan.lead()
    if best is None:
        best = Line(key="brief.best_milestone", text={"milestone": best_milestone}) if best_milestone else Line(key="brief.best_default")
    minimum_code = None
    if minimum is None:
        minimum_code = gap_questions[0].code if gap_questions else None
        minimum = Line(key="brief.minimum_gap", text={"question": minimum_code}) if minimum_code else Line(key="brief.minimum_default")
    return Brief(
        meeting_date=meeting_date,
        purpose=purpose,
        purpose_id=purpose_id,
        report=report,
        lead=lead,
        attendees=rows,
        best_commitment=best_milestone,
        best=best,
        minimum=minimum,
        minimum_commitment=minimum_code,
        questions=questions,
        blocking=[f for f in findings if f.severity == Severity.BLOCK],
    )
