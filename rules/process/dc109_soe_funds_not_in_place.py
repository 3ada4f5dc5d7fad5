"""DC109 soe-funds-not-in-place — a state-owned customer's purchase plan is approved but the money is not in place (M2.4).

Why: in many state-owned enterprises a submitted plan is not a purchase, and
an approved plan without the funds in place (钱不到位) is not one either.
Only a customer recorded as state-owned: when ownership is not recorded the
rule stays silent (the budget rules already ask what the money rests on, and
DC110 asks about ownership where it changes the plan).
Clears when: budget.funds_in_place is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.state_owned == "yes"),
        c.budget << is_a("budget") & (m.funds_in_place != "yes"),
    )


RULE = FindingRule(
    code="DC109",
    symbol="soe-funds-not-in-place",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M2.4",
    phases=PRE_SALE,
    topics=frozenset({Topic.BUDGET}),
    asks=("purchaser", "decision_maker"),
    clears_fields=("budget.funds_in_place",),
    summary="State-owned customer: the funds are not confirmed in place.",
    rationale="In a state-owned enterprise only money in place turns a plan into a purchase.",
    when=_when,
    then=lambda match: Emit(
        params={"plan_approved": match["budget"]["plan_approved"], "funds_in_place": match["budget"]["funds_in_place"]}
    ),
)
