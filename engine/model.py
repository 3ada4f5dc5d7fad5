"""The deal record: pydantic models for everything the methodology judges.

Field names are the file format (see README "Deal file"). Vocabulary fields
accept English and Chinese spellings (engine.vocabulary). Stage, buying step
and milestone ids depend on the stage model, so they are checked against the
playbook afterwards (engine.loading.check_against_playbook).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .vocabulary import (
    AcceptanceStatus,
    BidDecision,
    RelationshipLevel,
    BrainQuadrant,
    BudgetEvidence,
    CoachCaveat,
    CollectiveRule,
    Credit,
    CustomerState,
    DecisionMode,
    PowerCircle,
    Relationship,
    Role,
    ShapedBy,
    Solution,
    Stance,
    SupporterKind,
    term,
    term_list,
)


def _not_a_boolean(value: object) -> object:
    """Numbers and numeric text pass; a boolean (YAML also reads yes/no and on/off as one) is not a count or an amount."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


def _without_negative_zero(value: float) -> float:
    """-0.0 is 0 (it would print as "-0")."""
    return 0.0 if value == 0 else value


NotBoolean = BeforeValidator(_not_a_boolean)
NoNegativeZero = AfterValidator(_without_negative_zero)
Money = Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False), NotBoolean, NoNegativeZero]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False), NotBoolean, NoNegativeZero]
Identifier = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Record(BaseModel):
    """Shared configuration: unknown fields are errors, records are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _written_date(value: object) -> object:
    """A date as a deal file writes it (YYYY-MM-DD); a number is not a date (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and value.strip().lstrip("-+").isdigit()):
        raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")
    return value


Date = Annotated[dt.date, BeforeValidator(_written_date)]


def _as_list(value: object) -> object:
    """Let a single value stand for a one-item list (`roles: 决策人`)."""
    return [value] if isinstance(value, str) else value


class CoachConditions(Record):
    """The three conditions of a coach (M4), each true, false or unknown (absent)."""

    trusts_our_capability: bool | None = None
    trusted_by_organisation: bool | None = None
    wants_us_to_win: bool | None = None


class Contact(Record):
    """One person in the customer's buying centre."""

    id: Identifier
    name: Text
    title: Text | None = None
    roles: term_list(Role) = Field(default_factory=list)  # type: ignore[valid-type]
    power: term(PowerCircle) = PowerCircle.UNKNOWN  # type: ignore[valid-type]
    stance: term(Stance) = Stance.UNKNOWN  # type: ignore[valid-type]
    supporter: term_list(SupporterKind) = Field(default_factory=list)  # type: ignore[valid-type]
    coach_conditions: CoachConditions = CoachConditions()
    caveats: term_list(CoachCaveat) = Field(default_factory=list)  # type: ignore[valid-type]
    shares_information: bool | None = None
    avoids_conflict: bool | None = None
    personal_interest_engaged: bool = False
    brain: term(BrainQuadrant) | None = None  # type: ignore[valid-type]
    last_contact: Date | None = None
    met: bool | None = Field(
        default=None,
        description="Whether we have ever met this person: false = never met; absent = not recorded "
        "(a last_contact date also means we have met).",
    )
    active: bool = True

    _lists = field_validator("roles", "supporter", "caveats", mode="before")(_as_list)

    @field_validator("roles", "supporter", "caveats")
    @classmethod
    def _no_repeats(cls, values: list) -> list:
        if len(set(values)) != len(values):
            raise ValueError("lists each value once; remove the repeated one")
        return values

    @model_validator(mode="after")
    def _met_agrees_with_last_contact(self) -> Contact:
        if self.met is False and self.last_contact is not None:
            raise ValueError("met: false (never met) but last_contact gives a date; keep one of them")
        return self

    @property
    def contacted(self) -> bool | None:
        """Have we met this person: True, False (never) or None (not recorded)."""
        return True if self.last_contact is not None else self.met


class Customer(Record):
    """The buying organisation."""

    name: Text
    industry: Text | None = None
    state_owned: bool | None = Field(default=None, description="State-owned (国企): true or false; absent = not recorded.")
    credit: term(Credit) | None = None  # type: ignore[valid-type]
    relationship: term(Relationship) | None = None  # type: ignore[valid-type]
    relationship_level: term(RelationshipLevel) | None = Field(  # type: ignore[valid-type]
        default=None, description="M7.3: price (1) / service (2) / interdependent (3); absent = not judged."
    )
    share_of_our_sales: Percent | None = Field(
        default=None, description="This customer's share of our sales volume, in percent (our dependence on it)."
    )


class Budget(Record):
    """The customer's budget and what the figure rests on (M5.5, M2.4)."""

    amount: Money | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    evidence: term(BudgetEvidence) = BudgetEvidence.UNKNOWN  # type: ignore[valid-type]
    source: Text | None = None
    plan_approved: bool | None = None
    funds_in_place: bool | None = None


class Objective(Record):
    """The sales objective: who / what / how much / when (M5.1, M5.2)."""

    who: Text | None = None
    what: Text | None = None
    how_much: Money | None = None
    when: Date | None = None
    confirmed_by_customer: bool | None = Field(
        default=None, description="Has the customer confirmed the objective: true or false; absent = not recorded."
    )
    shaped_by: term(ShapedBy) = ShapedBy.UNKNOWN  # type: ignore[valid-type]
    meaning_agreed: bool | None = None


class PricePressure(Record):
    """Pressure on price (M7.5): ultimatums citing cheaper rivals, and a concession asked of us."""

    ultimatums: Annotated[int, Field(ge=0, le=1000), NotBoolean] = 0
    verified: bool = False
    concession_requested: bool = False


class Competitor(Record):
    """A rival supplier in this deal."""

    name: Text
    incumbent: bool = False
    shaped_specs: bool | None = Field(default=None, description="This rival shaped the customer's specification; absent = not known.")
    entered_step: Text | None = Field(default=None, description="The customer's buying step when this rival entered; absent = not known.")
    strengths: Text | None = None


class Concession(Record):
    """A price concession we already made (M7.5): how much, and what the customer gave in return."""

    amount: Money
    gained: Text | None = Field(default=None, description="What we got for it; absent = nothing.")


class Negotiation(Record):
    """Price and terms on the table (M7.5, M7.3): our quote, our floor, what we already gave."""

    our_quote: Money | None = None
    walk_away: Money | None = Field(default=None, description="The lowest price we accept.")
    chosen_us: bool | None = Field(default=None, description="The customer has already chosen us; absent = not known.")
    concessions: list[Concession] = Field(default_factory=list, max_length=50)
    scope_may_change: bool | None = Field(
        default=None, description="The customer's goals are likely to change during implementation; absent = not judged."
    )

    @model_validator(mode="after")
    def _floor_below_quote(self) -> Negotiation:
        if self.our_quote is not None and self.walk_away is not None and self.walk_away > self.our_quote:
            raise ValueError(f"walk_away {self.walk_away:g} is above our_quote {self.our_quote:g}")
        return self


class PaymentTerms(Record):
    """The payment terms of the contract (M9.1: clear payment terms in the contract)."""

    agreed: bool | None = None
    deposit_percent: Percent | None = None
    acceptance_criteria_agreed: bool | None = None
    payment_signer_known: bool | None = Field(default=None, description="We know who signs the payments.")


class Tender(Record):
    """A tender in this deal (M2.1 bidding stage): public or invited, published or not, bid or no-bid."""

    public: bool | None = Field(default=None, description="A public tender (公开招标); absent = not known.")
    published: bool | None = Field(default=None, description="The tender document is out; absent = not known.")
    bid_decision: term(BidDecision) | None = None  # type: ignore[valid-type]
    accompanying_suspected: bool | None = Field(default=None, description="We suspect we are invited to make up the numbers (陪标).")


class Implementation(Record):
    """After signing (M9): acceptance, the project as a reference, the next purchase."""

    acceptance: term(AcceptanceStatus) | None = None  # type: ignore[valid-type]
    reference_agreed: bool | None = Field(default=None, description="The customer agreed to act as a reference.")
    next_purchase_identified: bool | None = None


class Decision(Record):
    """How the customer will decide (M3.5)."""

    mode: term(DecisionMode) = DecisionMode.UNKNOWN  # type: ignore[valid-type]
    rule: term(CollectiveRule) | None = None  # type: ignore[valid-type]
    committee_size: Annotated[int, Field(ge=1, le=200), NotBoolean] | None = None
    committee: list[Identifier] = Field(default_factory=list)
    last_purchase_known: bool = False

    @model_validator(mode="after")
    def _collective_fields(self) -> Decision:
        if self.mode != DecisionMode.COLLECTIVE and (self.rule or self.committee_size or self.committee):
            raise ValueError("rule, committee_size and committee describe a collective decision; set mode: collective")
        if self.committee_size is not None and len(self.committee) > self.committee_size:
            raise ValueError(
                f"committee lists {len(self.committee)} members but committee_size is {self.committee_size}"
            )
        if len(set(self.committee)) != len(self.committee):
            raise ValueError("committee lists a contact twice")
        return self


class Receivable(Record):
    """Money the customer owes us (M9.1)."""

    amount: Money
    due: Date
    paid: Money = 0

    @model_validator(mode="after")
    def _paid_within_amount(self) -> Receivable:
        if self.paid > self.amount:
            raise ValueError(f"paid {self.paid:g} exceeds amount {self.amount:g}")
        return self


class Deal(Record):
    """A key-account deal as of one date. The same record always gives the same coaching."""

    id: Identifier
    name: Text
    owner: Text | None = None
    customer: Customer
    amount: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    solution: term(Solution) = Solution.STANDARD  # type: ignore[valid-type]
    stage_model: Identifier = "standard-6"
    stage: Text
    stage_entered: Date
    buying_step: Text
    entry_step: Text | None = None
    customer_state: term(CustomerState) | None = None  # type: ignore[valid-type]
    organisational_value_agreed: bool | None = None
    expected_close: Date | None = None
    as_of: Date
    contacts: list[Contact] = Field(default_factory=list, max_length=500)
    budget: Budget = Budget()
    objective: Objective = Objective()
    competitors: list[Competitor] = Field(default_factory=list, max_length=100)
    decision: Decision = Decision()
    price_pressure: PricePressure = PricePressure()
    differentiation: Text | None = Field(
        default=None, description="How our objective and solution differ from the rivals' (M5.2); absent = not worked out."
    )
    negotiation: Negotiation = Negotiation()
    payment_terms: PaymentTerms = PaymentTerms()
    tender: Tender = Tender()
    implementation: Implementation = Implementation()
    milestones: list[Text] = Field(default_factory=list, max_length=200)
    receivables: list[Receivable] = Field(default_factory=list, max_length=500)
    _checked_against: str | None = PrivateAttr(None)  # the playbook version the deal was checked against
