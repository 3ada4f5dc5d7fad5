"""What a review returns: findings, the report around them, and a gate decision."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from typing_extensions import TypedDict

from pydantic import BaseModel, ConfigDict

from .rulebook import Kind, Severity


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


Built = TypeVar("Built", bound=BaseModel)
_set = object.__setattr__
_FIELDS: dict[type, list[str]] = {}


def assembled(model: type[Built], values: dict[str, Any]) -> Built:
    """A result model from the value of every one of its fields in their declared order, already valid: what
    `model_construct` makes, without its per-field default lookups (a review builds dozens; this takes a fifth of
    the time). `values` becomes the instance's own: pass a fresh dict. TypeError when a field is missing, unknown
    or out of order (JSON keeps the order)."""
    names = _FIELDS.get(model)
    if names is None:
        names = _FIELDS[model] = list(model.model_fields)
    if list(values) != names:
        raise TypeError(f"{model.__name__} needs every field in the order {names}, not {list(values)}")
    instance = model.__new__(model)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", set(values))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def updated(instance: Built, **changes: Any) -> Built:
    """`instance.model_copy(update=changes)` for changes already valid, through `assembled`."""
    return assembled(type(instance), {**instance.__dict__, **changes})


class ChainStep(TypedDict):
    """One link in the reasoning behind a finding.

    `derived`: a derivation asserted `fact`; `counted`: the ledger counted
    `count` facts of derivation `rule`; `fired`: the finding's own rule.
    A plain mapping: chains are built for every rule activation, so they stay cheap.
    """

    step: str
    rule: str
    fact: str | None
    count: int | None


class DerivedFact(_Out):
    """A fact the rules derived (e.g. `coach` about contact `wang`, `grade` A about the deal)."""

    name: str
    subject: str
    params: dict[str, Any] = {}
    evidence: list[str] = []


class FindingText(_Out):
    """A finding rendered in one language."""

    title: str
    why: str
    action: str
    clears: str
    short: str = ""
    first: str = ""
    item: str = ""


class Finding(_Out):
    """One next-best action or risk warning, with what it rests on."""

    code: str
    symbol: str
    kind: Kind
    severity: Severity
    section: str
    subject: str | None = None
    params: dict[str, Any] = {}
    evidence: list[str] = []
    chain: list[ChainStep] = []
    clears_fields: list[str] = []
    mark: str | None = None  # the rule's mark (engine.rulebook.Mark): what it means to roll-up, gate and header
    text: FindingText | None = None
    rank: int | None = None  # 1 = most important (engine.coaching)
    score: int | None = None  # under the playbook's priority model
    card: str | None = None  # the key of the card that shows it
    folded: bool = False  # not shown by default (`--all` shows it)


class CardText(_Out):
    """A card in one language: a headline, why, what to do, the first move, and its other findings' first moves."""

    title: str
    why: str
    action: str
    first: str
    clears: str
    also: list[str] = []


class Card(_Out):
    """One thing to act on: a person (all findings about them), a rule over several subjects, or one finding."""

    key: str  # person:<contact id> | rule:<code>
    kind: Literal["person", "rule", "single"]
    rank: int
    score: int
    severity: Severity
    subject: str | None = None
    folded: bool = False
    findings: list[Finding]
    text: CardText | None = None


class Suppressed(_Out):
    """A finding set aside: its rule does not apply to the deal's phase or stage, or it yields to a finding shown."""

    code: str
    subject: str | None = None
    reason: Literal["phase", "stage", "yields_to", "implied"]
    detail: str  # the phase, the stage, the code it yields to, or the derived fact that shows the milestone met


class Person(_Out):
    """A contact as the coaching names them: who, their buying roles, and which supporter they really are."""

    id: str
    name: str
    title: str | None = None
    roles: list[str] = []
    qualified: list[str] = []  # insider / sponsor / coach, as the rules derived them (not as marked)
    stance: str = "unknown"
    active: bool = True


class StagePosition(_Out):
    """A stage or buying step: id and display name."""

    index: int
    id: str
    name: dict[str, str]


class Report(_Out):
    """The coaching for one deal as of one date."""

    deal_id: str
    deal_name: str
    owner: str | None = None
    customer: str
    amount: float
    currency: str
    as_of: dt.date
    expected_close: dt.date | None = None
    stage_model: str
    stage: StagePosition
    buying_step: StagePosition
    days_in_stage: int
    grade: str | None = None
    grade_to_confirm: bool = False  # A by the close date, but whether supplier selection has started is not recorded (M6.4)
    ruleset_version: str
    language: str | None = None
    phase: str = ""
    purpose: str | None = None
    next_milestones: list[str] = []  # the milestones to win next: the review's purpose
    milestones_reached: list[str] = []  # as recorded, plus those the review itself shows met (engine.coaching.implied_milestones)
    stake: int = 0  # how much this deal's coaching matters next to other deals (engine.coaching.stake)
    findings: list[Finding]  # in priority order; folded ones are not shown by default
    cards: list[Card] = []
    suppressed: list[Suppressed] = []
    derived: list[DerivedFact] = []
    people: list[Person] = []

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.BLOCK]


class UnmetMilestone(_Out):
    """A milestone the deal must reach before the gate opens."""

    id: str
    name: dict[str, str]
    stage: str


class GateResult(_Out):
    """May this deal advance to `to_stage`? `allowed` decides; the rest says why not."""

    deal_id: str
    from_stage: StagePosition
    to_stage: StagePosition
    allowed: bool
    advance: bool
    unmet_milestones: list[UnmetMilestone]
    blocking: list[Finding]
    report: Report


class WhatIfResult(_Out):
    """A deal reviewed before and after a proposed change: which findings clear, which appear."""

    change: dict[str, Any]
    before: Report
    after: Report
    cleared: list[Finding]
    appeared: list[Finding]
    remaining: list[Finding]


class Changes(_Out):
    """What changed between two reviews of the same deal (e.g. last week's and this week's)."""

    previous: Report
    current: Report
    days_between: int
    stage_moved: int | None
    buying_step_moved: int | None
    new_risks: list[Finding]
    cleared_risks: list[Finding]
    new_actions: list[Finding]
    done_actions: list[Finding]
    left_behind: list[Finding] = []  # gone only because the deal moved to a stage its rule does not look at: not done, not cleared


def reports_in(result: object) -> list[Report]:
    """The reviews a result holds: itself, a gate's or brief's report, a what-if's before and after, a change's
    previous and current."""
    held = (result, *(getattr(result, name, None) for name in ("report", "before", "after", "previous", "current")))
    return [item for item in held if isinstance(item, Report)]
