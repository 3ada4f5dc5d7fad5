"""The condition language of company rules: tests over the documented deal facts, compiled to durable-rules.

A condition is YAML (README "Company rules"):

    all:                                   # every item holds (a mapping of several terms means the same)
      - customer.state_owned: true
      - amount: {at_least: 5000000}
      - stage: {in: [entry, proposal]}
      - not: {budget.evidence: customer_document}
      - count: contacts                    # how many active contacts ...
        where: {power: core, stance: supports}
        is: 0                              # ... and the comparison (is: 0 for none, at_least: 1 for some)

It is parsed into a small tree checked against TERMS, put in negation normal
form and expanded into alternatives, each alternative one durable-rules rule.
It is never evaluated as Python: the engine decides, as for the shipped rules.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import product
from typing import Any

from durable.lang import c, m, when_all
from pydantic_core import PydanticCustomError

from .facts import POWER_RANK
from .loading import quoted
from .phases import Phase
from .playbook import StageModel
from .vocabulary import (
    AcceptanceStatus, BidDecision, BudgetEvidence, CoachCaveat, CollectiveRule, Credit, CustomerState, DecisionMode,
    PowerCircle, Relationship, RelationshipLevel, Role, ShapedBy, Solution, Stance, SupporterKind, NOUNS, fold, parse_term,
)

MAX_BRANCHES = 64  # alternatives one condition may expand into (each is one rule in the engine)
MAX_TESTS = 100  # term tests in one condition
MAX_VALUES = 50  # values in one `in` / `not_in` list
MAX_NUMBER = 1e15  # the engine cannot hold larger numbers (see engine.playbook.MAX_AMOUNT)
OPERATORS = ("is", "is_not", "in", "not_in", "at_least", "at_most", "more_than", "less_than")
ORDERED = ("at_least", "at_most", "more_than", "less_than")
_NEGATED = {"eq": "ne", "ne": "eq", "ge": "lt", "lt": "ge", "le": "gt", "gt": "le"}
_COMPARISON = {"at_least": "ge", "at_most": "le", "more_than": "gt", "less_than": "lt", "is": "eq", "is_not": "ne"}


class ConditionError(ValueError):
    """A condition that cannot be compiled; `path` says where in the rule: ("when", "all", 2, "amount")."""

    def __init__(self, path: tuple, message: str):
        super().__init__(f"{written_path(path)}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Term:
    """One thing a condition may test: a field of a fact the engine matches, of one kind of value.

    Kinds: number; boolean (true/false); yes_no (true/false or unknown: absent from the record);
    choice (one of `values`); rank (a choice with an order: the ordered comparisons apply); set (a list
    on the record: `is` means it holds the value); stage and step (a stage or buying-step id of the
    playbook's stage models).
    """

    fact: str
    field: str
    kind: str
    meaning: str
    record: tuple[str, ...]
    enum: type[StrEnum] | None = None
    extra: tuple[str, ...] = ()  # values besides the enum's (e.g. unknown when the record says nothing)
    known: tuple[str, str, Any] | None = None  # (field, op, value): the value means something only then
    rank: tuple[str, dict[str, int]] | None = None  # a rank term: the fact field holding its order, and each value's place

    @property
    def values(self) -> tuple[str, ...]:
        return (*(member.value for member in self.enum or ()), *self.extra)


def _t(fact: str, name: str, kind: str, meaning: str, record: str | tuple[str, ...], **more: Any) -> Term:
    return Term(fact, name, kind, meaning, (record,) if isinstance(record, str) else record, **more)


_UNKNOWN = ("unknown",)
_CLOSE_KNOWN = ("has_close_date", "eq", True)

# Terms at the level of the deal (a rule's `when:`), by the name a condition uses.
DEAL_TERMS: dict[str, Term] = {
    "amount": _t("deal", "amount", "number", "the deal's amount, in its own currency (see currency)", "amount"),
    "currency": _t("deal", "currency", "currency", "the deal's currency, a three-letter code: CNY, EUR, USD ...", "currency"),
    "phase": _t("deal", "phase", "rank", "where the sale stands (qualify < entry < proposal < bidding < negotiation < "
                "after_contract): its stage's phase, after_contract once a contract-signing milestone is reached",
                ("stage", "milestones"), enum=Phase, rank=("phase_rank", {phase.value: place for place, phase in enumerate(Phase)})),
    "stage": _t("deal", "stage_id", "stage", "our sales stage (a stage id of the stage model)", "stage"),
    "buying_step": _t("deal", "step_id", "step", "the customer's buying step (a buying-step id)", "buying_step"),
    "stages_ahead_of_customer": _t("deal", "stage_lead", "number", "how many stages our stage is ahead of the customer's step",
                                   ("stage", "buying_step")),
    "days_in_stage": _t("deal", "days_in_stage", "number", "days since the deal entered its stage", ("stage_entered", "as_of")),
    "expected_close_known": _t("deal", "has_close_date", "boolean", "an expected close date is recorded", "expected_close"),
    "days_to_close": _t("deal", "days_to_close", "number", "days from as_of to the expected close (negative: passed); "
                        "false when no close date is recorded", ("expected_close", "as_of"), known=_CLOSE_KNOWN),
    "solution": _t("deal", "solution", "choice", "standard or customised solution", "solution", enum=Solution),
    "domestic": _t("deal", "domestic", "boolean", "a deal in CNY (Chinese state-ownership practice applies)", "currency"),
    "customer.state_owned": _t("deal", "state_owned", "yes_no", "the customer is state-owned", "customer.state_owned"),
    "customer.credit": _t("deal", "credit", "choice", "the customer's credit", "customer.credit", enum=Credit, extra=_UNKNOWN),
    "customer.relationship": _t("deal", "relationship", "choice", "how the customer sees us", "customer.relationship",
                                enum=Relationship, extra=_UNKNOWN),
    "customer.relationship_level": _t("deal", "relationship_level", "choice", "the level of the relationship",
                                      "customer.relationship_level", enum=RelationshipLevel, extra=_UNKNOWN),
    "customer.share_of_our_sales": _t("deal", "share_of_our_sales", "number", "percent of our sales this customer takes",
                                      "customer.share_of_our_sales", known=("share_of_our_sales", "ge", 0)),
    "customer_state": _t("deal", "customer_state", "choice", "the customer's buying state", "customer_state",
                         enum=CustomerState, extra=_UNKNOWN),
    "organisational_value_agreed": _t("deal", "organisational_value_agreed", "yes_no",
                                      "the customer agreed the value to the organisation", "organisational_value_agreed"),
    "competitors": _t("deal", "competitors", "number", "how many competitors are recorded", "competitors"),
    "incumbent_rival": _t("deal", "incumbent_rival", "boolean", "a recorded competitor is the incumbent", "competitors"),
    "differentiation_known": _t("deal", "has_differentiation", "boolean", "our differentiation is written down", "differentiation"),
    "payment_terms.agreed": _t("deal", "payment_agreed", "yes_no", "payment terms agreed", "payment_terms.agreed"),
    "payment_terms.deposit_percent": _t("deal", "deposit_percent", "number", "the deposit, percent of the amount",
                                        "payment_terms.deposit_percent", known=("deposit_percent", "ge", 0)),
    "payment_terms.acceptance_criteria_agreed": _t("deal", "acceptance_criteria_agreed", "yes_no", "acceptance criteria agreed",
                                                   "payment_terms.acceptance_criteria_agreed"),
    "payment_terms.payment_signer_known": _t("deal", "payment_signer_known", "yes_no", "we know who signs the payment",
                                             "payment_terms.payment_signer_known"),
    "tender.public": _t("deal", "tender_public", "yes_no", "a public tender", "tender.public"),
    "tender.published": _t("deal", "tender_published", "yes_no", "the tender is published", "tender.published"),
    "tender.bid_decision": _t("deal", "bid_decision", "choice", "our bid / no-bid decision", "tender.bid_decision",
                              enum=BidDecision, extra=_UNKNOWN),
    "tender.accompanying_suspected": _t("deal", "accompanying_suspected", "yes_no", "we suspect we are invited to make up numbers",
                                        "tender.accompanying_suspected"),
    "implementation.acceptance": _t("deal", "acceptance", "choice", "where acceptance (验收) stands", "implementation.acceptance",
                                    enum=AcceptanceStatus, extra=_UNKNOWN),
    "implementation.reference_agreed": _t("deal", "reference_agreed", "yes_no", "the customer agreed to be a reference",
                                          "implementation.reference_agreed"),
    "implementation.next_purchase_identified": _t("deal", "next_purchase_identified", "yes_no", "the next purchase is identified",
                                                  "implementation.next_purchase_identified"),
    "budget.amount_known": _t("budget", "has_amount", "boolean", "a budget amount is recorded", "budget.amount"),
    "budget.evidence": _t("budget", "evidence", "choice", "what the budget rests on", "budget.evidence", enum=BudgetEvidence),
    "budget.plan_approved": _t("budget", "plan_approved", "yes_no", "the budget plan is approved", "budget.plan_approved"),
    "budget.funds_in_place": _t("budget", "funds_in_place", "yes_no", "the funds are in place", "budget.funds_in_place"),
    "budget.covers_quote": _t("pressure", "budget_covers_quote", "yes_no", "the budget covers our quote (or the amount)",
                              ("budget.amount", "negotiation.our_quote", "amount")),
    "objective.confirmed_by_customer": _t("objective", "confirmed_by_customer", "yes_no", "the customer confirmed the objective",
                                          "objective.confirmed_by_customer"),
    "objective.shaped_by": _t("objective", "shaped_by", "choice", "who shaped the customer's objective", "objective.shaped_by",
                              enum=ShapedBy),
    "objective.meaning_agreed": _t("objective", "meaning_agreed", "yes_no", "we and the customer read the objective alike",
                                   "objective.meaning_agreed"),
    "price_pressure.ultimatums": _t("pressure", "ultimatums", "number", "price ultimatums citing cheaper rivals",
                                    "price_pressure.ultimatums"),
    "price_pressure.verified": _t("pressure", "verified", "boolean", "the ultimatums were verified", "price_pressure.verified"),
    "price_pressure.concession_requested": _t("pressure", "concession_requested", "boolean", "the customer asked us for a concession",
                                              "price_pressure.concession_requested"),
    "negotiation.our_quote_known": _t("pressure", "has_quote", "boolean", "our quote is recorded", "negotiation.our_quote"),
    "negotiation.walk_away_known": _t("pressure", "has_walk_away", "boolean", "our walk-away price is recorded",
                                      "negotiation.walk_away"),
    "negotiation.chosen_us": _t("pressure", "chosen_us", "yes_no", "the customer has chosen us", ("negotiation.chosen_us", "milestones")),
    "negotiation.concessions": _t("pressure", "concessions", "number", "concessions we made", "negotiation.concessions"),
    "negotiation.concessions_unreciprocated": _t("pressure", "concessions_unreciprocated", "number",
                                                 "concessions we made for nothing in return", "negotiation.concessions"),
    "negotiation.conceded_total": _t("pressure", "conceded_total", "number", "the total amount conceded", "negotiation.concessions"),
    "negotiation.scope_may_change": _t("pressure", "scope_may_change", "yes_no", "the scope may change", "negotiation.scope_may_change"),
    "decision.mode": _t("decision", "mode", "choice", "who decides: one person, a committee, mixed", "decision.mode", enum=DecisionMode),
    "decision.rule": _t("decision", "rule", "choice", "how a committee decides (none: not a committee)", "decision.rule",
                        enum=CollectiveRule, extra=("none",)),
    "decision.committee_size": _t("decision", "committee_size", "number", "members of the decision committee (0: unknown)",
                                  "decision.committee_size"),
    "decision.last_purchase_known": _t("decision", "last_purchase_known", "boolean", "we know how the last purchase was decided",
                                       "decision.last_purchase_known"),
    "gate.to": _t("gate", "to_id", "stage", "the stage a gate is asked to reach (only in `dealcoach gate`)", "to"),
}

# Terms about one contact: in `count: contacts` and, prefixed `contact.`, in a rule about each contact.
CONTACT_TERMS: dict[str, Term] = {
    "role": _t("contact", "role", "set", "a buying role the contact holds", "contacts.roles", enum=Role),
    "power": _t("contact", "power", "rank", "the contact's power circle (unaware < watcher < political < core)", "contacts.power",
                enum=PowerCircle, rank=("power_rank", {member.value: place for member, place in POWER_RANK.items()})),
    "stance": _t("contact", "stance", "choice", "the contact's stance towards us", "contacts.stance", enum=Stance),
    "supporter": _t("contact", "marked", "set", "what the record marks the contact as: insider, sponsor, coach",
                    "contacts.supporter", enum=SupporterKind),
    "caveat": _t("contact", "caveat", "set", "a caveat about the contact as a coach", "contacts.caveats", enum=CoachCaveat),
    "met": _t("contact", "met", "yes_no", "we have met the contact", ("contacts.met", "contacts.last_contact")),
    "days_since_contact": _t("contact", "days_since_contact", "number", "days since we last met the contact; false when never recorded",
                             ("contacts.last_contact", "as_of"), known=("has_last_contact", "eq", True)),
    "active": _t("contact", "active", "boolean", "still on the project (counts and contact rules take only active contacts "
                 "unless they test this)", "contacts.active"),
    "on_committee": _t("contact", "on_committee", "boolean", "a member of the decision committee", "decision.committee"),
    "shares_information": _t("contact", "shares_information", "yes_no", "shares inside information with us",
                             "contacts.shares_information"),
    "avoids_conflict": _t("contact", "avoids_conflict", "yes_no", "avoids open conflict", "contacts.avoids_conflict"),
    "personal_interest_engaged": _t("contact", "personal_interest_engaged", "boolean", "we engaged the contact's personal interest",
                                    "contacts.personal_interest_engaged"),
    "trusts_our_capability": _t("contact", "trusts_our_capability", "yes_no", "coach condition: trusts our capability",
                                "contacts.coach_conditions.trusts_our_capability"),
    "trusted_by_organisation": _t("contact", "trusted_by_organisation", "yes_no", "coach condition: trusted by the organisation",
                                  "contacts.coach_conditions.trusted_by_organisation"),
    "wants_us_to_win": _t("contact", "wants_us_to_win", "yes_no", "coach condition: wants us to win",
                          "contacts.coach_conditions.wants_us_to_win"),
}

COMPETITOR_TERMS: dict[str, Term] = {
    "incumbent": _t("competitor", "incumbent", "boolean", "the competitor is the incumbent supplier", "competitors.incumbent"),
    "shaped_specs": _t("competitor", "shaped_specs", "yes_no", "the competitor shaped the specifications", "competitors.shaped_specs"),
    "entered_late": _t("competitor", "entered_late", "yes_no", "the competitor entered once the specifications were fixed",
                       "competitors.entered_step"),
}

RECEIVABLE_TERMS: dict[str, Term] = {
    "outstanding": _t("receivable", "outstanding", "number", "the amount still to collect", ("receivables.amount", "receivables.paid")),
    "days_overdue": _t("receivable", "days_overdue", "number", "days past the due date (negative: not yet due)",
                       ("receivables.due", "as_of")),
    "partly_paid": _t("receivable", "partly_paid", "boolean", "part of it is paid", "receivables.paid"),
}

# What `count:` may count: the fact type and its terms.
COUNTABLE: dict[str, tuple[str, dict[str, Term]]] = {
    "contacts": ("contact", CONTACT_TERMS),
    "competitors": ("competitor", COMPETITOR_TERMS),
    "receivables": ("receivable", RECEIVABLE_TERMS),
}
SINGLE_FACTS = ("deal", "budget", "objective", "pressure", "decision", "gate")
ALIAS_ORDER = (*SINGLE_FACTS, "contact", "competitor", "receivable", "ledger")
_ACTIVE = ("active", "eq", True)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# -- the tree ---------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    """One primitive comparison of a fact field with a constant: what the engine evaluates."""

    fact: str
    field: str
    op: str  # eq ne ge gt le lt
    value: Any

    def negated(self) -> Test:
        return Test(self.fact, self.field, _NEGATED[self.op], self.value)

    def expression(self):
        """The durable-rules DSL comparison (a fresh object: `<<` mutates them)."""
        accessor = m
        for part in self.field.split("."):
            accessor = getattr(accessor, part)
        return {
            "eq": lambda: accessor == self.value, "ne": lambda: accessor != self.value,
            "ge": lambda: accessor >= self.value, "gt": lambda: accessor > self.value,
            "le": lambda: accessor <= self.value, "lt": lambda: accessor < self.value,
        }[self.op]()


@dataclass(frozen=True)
class All:
    items: tuple


@dataclass(frozen=True)
class Any_:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Check:
    """A test as the author wrote it (`amount: {at_least: 5000000}`), for coverage and errors."""

    path: tuple
    label: str
    scope: str  # the fact type it is about ("deal" for the deal-level facts)
    node: object  # its meaning as Test / All / Any_ / Not


@dataclass(frozen=True)
class Count:
    """`count:` of facts meeting `where`, compared with a number: the ledger field `name` holds the count."""

    path: tuple
    label: str
    of: str  # the fact type counted
    where: object
    name: str
    op: str
    number: int
    param: str | None  # `as:`: the name a template reads the count under


@dataclass
class Parsed:
    """A compiled condition: its tree, the checks written, the counts it needs, the record fields it reads."""

    tree: object
    checks: list[Check] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    record_fields: set[str] = field(default_factory=set)
    reads_active: bool = False


# -- parsing ------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """The stages (or buying steps) of a playbook's stage models, found by every spelling a deal file may use (the
    models' own lookups: id, Chinese name, English name in any case and spacing)."""

    noun: str  # "stage" or "buying step"
    models: tuple[StageModel, ...]

    def _ids(self, model: StageModel) -> list[str]:
        return [stage.id if self.noun == "stage" else stage.buying_step.id for stage in model.stages]

    def find(self, raw: object) -> str | None:
        """The id `raw` names in the first stage model that knows it."""
        if not isinstance(raw, str):
            return None
        for model in self.models:
            index = model.find_stage(raw) if self.noun == "stage" else model.find_step(raw)
            if index is not None:
                return self._ids(model)[index]
        return None

    def unknown(self, raw: object) -> str:
        """The message for a spelling that names none."""
        every = sorted({entry for model in self.models for entry in self._ids(model)})
        close = difflib.get_close_matches(str(raw), every, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{quoted(raw)} is not a {self.noun} of the playbook's stage models{hint}; allowed: {', '.join(every)} (or their names)"


@dataclass
class Parser:
    """Reads one rule's `when:` (or a count's `where:`) into the tree; ConditionError on anything not allowed."""

    stages: Names
    steps: Names
    count_prefix: str  # ledger names of this rule's counts: <prefix>_count<n>
    contact_subject: bool = False
    parsed: Parsed = field(default_factory=lambda: Parsed(None))
    tests: int = 0

    def condition(self, raw: object, path: tuple = ("when",)) -> Parsed:
        self.parsed.tree = self._node(raw, path, DEAL_TERMS, "deal")
        return self.parsed

    def _node(self, raw: object, path: tuple, terms: dict[str, Term], scope: str) -> object:
        if isinstance(raw, list):
            raise ConditionError(path, "a list here is ambiguous: write `all:` (every item holds) or `any:` (one is enough)")
        if not isinstance(raw, dict) or not raw:
            raise ConditionError(path, f"expected a mapping of tests, all:, any:, not: or count:, not {quoted(raw)}")
        if "count" in raw:
            if scope != "deal":
                raise ConditionError((*path, "count"), "a count cannot be nested in another count's where:")
            return self._count(raw, path)
        parts = []
        for key, value in raw.items():
            where = (*path, key)
            if key in ("all", "any"):
                if not isinstance(value, list) or not value:
                    raise ConditionError(where, f"{key}: takes a list of conditions, not {quoted(value)}")
                items = tuple(self._node(item, (*where, index), terms, scope) for index, item in enumerate(value))
                parts.append(All(items) if key == "all" else Any_(items))
            elif key == "not":
                parts.append(Not(self._node(value, where, terms, scope)))
            else:
                parts.append(self._test(str(key), value, where, terms, scope))
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def _term(self, name: str, path: tuple, terms: dict[str, Term], scope: str) -> Term:
        if scope == "deal" and self.contact_subject and name.startswith("contact."):
            found = CONTACT_TERMS.get(name.removeprefix("contact."))
            if found is not None:
                return found
        found = terms.get(name)
        if found is None:
            known = list(terms) + ([f"contact.{t}" for t in CONTACT_TERMS] if scope == "deal" and self.contact_subject else [])
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            extra = ("; contact terms need `subject: contact` (or a count: contacts)"
                     if scope == "deal" and name.removeprefix("contact.") in CONTACT_TERMS else "")
            raise ConditionError(path, f"unknown term {name!r}{hint}{extra} (every term: dealcoach rules --terms)")
        return found

    def _test(self, name: str, raw: object, path: tuple, terms: dict[str, Term], scope: str) -> Check:
        term = self._term(name, path, terms, scope)
        self.tests += 1
        if self.tests > MAX_TESTS:
            raise ConditionError(path, f"more than {MAX_TESTS} tests in one condition; split it into several rules")
        operations = raw if isinstance(raw, dict) else {"is": raw}
        if not operations:
            raise ConditionError(path, f"an empty mapping tests nothing; write a value or one of {', '.join(OPERATORS)}")
        nodes = []
        for op, value in operations.items():
            if op not in OPERATORS:
                close = difflib.get_close_matches(str(op), OPERATORS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConditionError((*path, op), f"unknown operator {op!r}{hint}; allowed: {', '.join(OPERATORS)}")
            nodes.append(self._meaning(term, str(op), value, (*path, op) if isinstance(raw, dict) else path))
        self.parsed.record_fields.update(term.record)
        if term.fact == "contact" and term.field == "active":
            self.parsed.reads_active = True
        label = f"{name} {_written(raw)}"
        check = Check(path, label, term.fact if term.fact not in SINGLE_FACTS else "deal",
                      nodes[0] if len(nodes) == 1 else All(tuple(nodes)))
        self.parsed.checks.append(check)
        return check

    def _meaning(self, term: Term, op: str, raw: object, path: tuple) -> object:
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                raise ConditionError(path, f"{op}: takes a list of values, not {quoted(raw)}")
            if len(raw) > MAX_VALUES:
                raise ConditionError(path, f"{len(raw)} values; at most {MAX_VALUES}")
            each = [self._meaning(term, "is" if op == "in" else "is_not", value, (*path, i)) for i, value in enumerate(raw)]
            return Any_(tuple(each)) if op == "in" else All(tuple(each))
        if op in ORDERED and term.kind not in ("number", "rank"):
            raise ConditionError(path, f"{op} compares numbers (or power circles); {_kind_text(term)} takes is, is_not, in or not_in")
        value = self._value(term, raw, path)
        if term.kind == "set":
            return Test(term.fact, f"{term.field}.{value}", "eq", op == "is")
        if term.kind == "rank" and op in ORDERED:
            assert term.rank is not None
            field, places = term.rank
            if places[value] < 0:
                raise ConditionError(path, f"{value} has no place in the order; compare with is or is_not")
            known = Test(term.fact, field, "ge", 0)  # an unknown value (place -1) is neither above nor below anything
            return All((known, Test(term.fact, field, _COMPARISON[op], places[value])))
        test = Test(term.fact, term.field, _COMPARISON[op], value)
        if term.known is not None:
            return All((Test(term.fact, *term.known), test))
        return test

    def _value(self, term: Term, raw: object, path: tuple) -> Any:
        kind = term.kind
        if kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ConditionError(path, f"{_kind_text(term)} takes a number, not {quoted(raw)}")
            if raw != raw or abs(raw) > MAX_NUMBER:
                raise ConditionError(path, f"{raw!r} is out of range; numbers go from -{MAX_NUMBER:,.0f} to {MAX_NUMBER:,.0f}")
            if isinstance(raw, float):
                if raw != 0 and abs(raw) < 0.01:
                    raise ConditionError(path, f"{raw!r}: numbers must be 0 or at least 0.01 (the engine misreads smaller ones)")
                return int(raw) if raw.is_integer() else round(raw, 2)
            return raw
        if kind == "boolean":
            if not isinstance(raw, bool):
                raise ConditionError(path, f"{_kind_text(term)} takes true or false, not {quoted(raw)}")
            return raw
        if kind == "yes_no":
            if isinstance(raw, bool):
                return "yes" if raw else "no"
            if raw in ("yes", "no", "unknown"):
                return raw
            raise ConditionError(path, f"{_kind_text(term)} takes true, false or unknown, not {quoted(raw)}")
        if kind in ("stage", "step"):
            found = self.stages.find(raw) if kind == "stage" else self.steps.find(raw)
            if found is None:
                names = self.stages if kind == "stage" else self.steps
                raise ConditionError(path, names.unknown(raw))
            return found
        if kind == "currency":
            if not isinstance(raw, str) or not re.fullmatch(r"[A-Z]{3}", raw):
                raise ConditionError(path, f"a currency is a three-letter code in capitals (CNY, EUR, USD), not {quoted(raw)}")
            return raw
        # choice, rank, set: a vocabulary value in any spelling a deal file may use, or an extra value
        if isinstance(raw, str) and raw in term.extra:
            return raw
        assert term.enum is not None
        try:
            if term.enum not in NOUNS:  # a vocabulary without Chinese spellings (phases): its values only
                return term.enum(fold(raw) if isinstance(raw, str) else raw).value
            return parse_term(term.enum, raw).value
        except (PydanticCustomError, ValueError):
            allowed = ", ".join(term.values)
            raise ConditionError(path, f"{quoted(raw)} is not allowed for {_kind_text(term)}; allowed: {allowed}") from None

    def _count(self, raw: dict, path: tuple) -> Count:
        unknown = set(raw) - {"count", "where", "as", *OPERATORS}
        if unknown:
            raise ConditionError((*path, sorted(map(str, unknown))[0]), "a count holds count:, where:, as: and one comparison "
                                 f"({', '.join(o for o in OPERATORS if o not in ('in', 'not_in'))}); put other tests beside it in all:")
        of = raw["count"]
        if not isinstance(of, str) or of not in COUNTABLE:
            raise ConditionError((*path, "count"), f"cannot count {quoted(of)}; allowed: {', '.join(COUNTABLE)}")
        fact, terms = COUNTABLE[of]
        where_raw = raw.get("where")
        before_active = self.parsed.reads_active
        self.parsed.reads_active = False
        where = self._node(where_raw, (*path, "where"), terms, fact) if where_raw is not None else All(())
        if fact == "contact" and not self.parsed.reads_active:
            where = All((Test("contact", *_ACTIVE), where))
        self.parsed.reads_active = before_active
        comparisons = [op for op in raw if op in OPERATORS]
        if len(comparisons) != 1:
            given = f"this one has {', '.join(comparisons)}" if comparisons else "e.g. is: 0 (none), at_least: 1 (some)"
            raise ConditionError(path, f"a count takes one comparison: {given}")
        op = comparisons[0]
        number = raw[op]
        if op in ("in", "not_in"):
            raise ConditionError((*path, op), "a count compares with one number: is, is_not, at_least, at_most, more_than, less_than")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 10_000:
            raise ConditionError((*path, op), f"a count compares with a whole number from 0 to 10000, not {quoted(number)}")
        param = raw.get("as")
        if param is not None and (not isinstance(param, str) or not _IDENTIFIER.match(param)):
            raise ConditionError((*path, "as"), f"as: names the count for the templates: lower-case letters, digits and _, "
                                                f"not {quoted(param)}")
        name = f"{self.count_prefix}_count{len(self.parsed.counts) + 1}"
        self.parsed.record_fields.add({"contact": "contacts", "competitor": "competitors", "receivable": "receivables"}[fact])
        label = f"count {of}" + (f" where {_written(where_raw)}" if where_raw is not None else "") + f" {op} {number}"
        count = Count(path, label, fact, where, name, _COMPARISON[op], number, param)
        self.parsed.counts.append(count)
        self.parsed.checks.append(Check(path, label, "deal", Test("ledger", name, count.op, number)))
        return count


def written_path(path: tuple) -> str:
    """A path as an author reads it: when.all[2].amount."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _written(raw: object) -> str:
    """A test as written, compactly (`{at_least: 5000000}`, `true`)."""
    if isinstance(raw, dict):
        return "{" + ", ".join(f"{k}: {_written(v)}" for k, v in raw.items()) + "}"
    if isinstance(raw, list):
        return "[" + ", ".join(_written(v) for v in raw) + "]"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _kind_text(term: Term) -> str:
    return {"number": "a number term", "boolean": "a true/false term", "yes_no": "a yes/no term", "stage": "the stage",
            "step": "the buying step", "currency": "the currency"}.get(term.kind, "a term of fixed values")


# -- normal form ----------------------------------------------------------------


def alternatives(node: object, positive: bool = True, limit: int = MAX_BRANCHES) -> list[tuple]:
    """The condition as alternatives (disjunctive normal form): a list of conjunctions of Tests.

    `not` is pushed down to the tests (De Morgan); a count becomes its ledger test. ConditionError when
    there would be more than `limit` alternatives."""
    if isinstance(node, Test):
        return [(node if positive else node.negated(),)]
    if isinstance(node, Check):
        return alternatives(node.node, positive, limit)
    if isinstance(node, Count):
        test = Test("ledger", node.name, node.op, node.number)
        return [(test if positive else test.negated(),)]
    if isinstance(node, Not):
        return alternatives(node.item, not positive, limit)
    if isinstance(node, All | Any_):
        parts = [alternatives(item, positive, limit) for item in node.items]
        conjunctive = isinstance(node, All) == positive
        if not conjunctive:
            result = [conjunction for part in parts for conjunction in part]
        else:
            size = 1
            for part in parts:
                size *= len(part)
                if size > limit:
                    break
            if size > limit:
                raise ConditionError(("when",), f"expands into more than {limit} alternatives; split it into several rules")
            result = [tuple(test for conjunction in combination for test in conjunction) for combination in product(*parts)]
        result = list(dict.fromkeys(tuple(dict.fromkeys(conjunction)) for conjunction in result))
        if len(result) > limit:
            raise ConditionError(("when",), f"expands into more than {limit} alternatives; split it into several rules")
        return result or [()]
    raise TypeError(f"not a condition node: {node!r}")


def durable_rules(conjunctions: list[tuple], required: tuple[str, ...] = (), always: tuple[Test, ...] = ()) -> list:
    """One durable-rules rule per conjunction, matching the facts that conjunction tests and the `required` ones
    (the person a contact rule is about, the ledger its named counts come from). Evaluation acts once per rule
    and subject however many alternatives hold (engine.evaluation)."""
    made = []
    for conjunction in conjunctions:
        tests = (*always, *conjunction)
        conditions = []
        for alias in aliases_of([conjunction], *required):
            expression = m.t == alias
            for test in tests:
                if test.fact == alias:
                    expression = expression & test.expression()
            conditions.append(getattr(c, alias) << expression)
        made.append(when_all(*conditions))
    return made


def aliases_of(conjunctions: list[tuple], *required: str) -> tuple[str, ...]:
    """The fact types a condition's alternatives read, in a fixed order."""
    used = set(required) | {test.fact for conjunction in conjunctions for test in conjunction}
    return tuple(alias for alias in ALIAS_ORDER if alias in used)


def all_terms() -> Iterator[tuple[str, str, Term]]:
    """(where it may be used, name, term) for every term, for `dealcoach rules --terms` and the README."""
    for name, term in DEAL_TERMS.items():
        yield "when", name, term
    for name, term in CONTACT_TERMS.items():
        yield "count: contacts / contact.", name, term
    for name, term in COMPETITOR_TERMS.items():
        yield "count: competitors", name, term
    for name, term in RECEIVABLE_TERMS.items():
        yield "count: receivables", name, term
