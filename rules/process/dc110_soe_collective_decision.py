"""DC110 soe-collective-decision — a large purchase at a state-owned customer, planned as if one person decides (M2.4, M3.5).

Why: "three majors, one large" (三重一大): major decisions, projects and large
fund movements are decided collectively by the leadership team. A large deal
there planned around one person's yes will meet a collective decision late.
When ownership is not recorded, the finding (`unknown`) asks whether the
customer is state-owned: for a deal this size the answer decides whether we
work on one person or on a leadership team.
Clears when: decision.mode is collective or mixed, the customer is found not to
be state-owned, or the amount is below soe_collective_amount.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.amount >= thresholds.soe_collective_amount)
        & ((m.state_owned == "yes") | ((m.state_owned == "unknown") & (m.domestic == True))),  # noqa: E712 - ask only of a Chinese deal
        c.decision << is_a("decision") & ((m.mode == "one_person") | (m.mode == "unknown")),
    )


RULE = FindingRule(
    code="DC110",
    symbol="soe-collective-decision",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M2.4",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("decision.mode", "customer.state_owned"),
    summary="Large state-owned purchase: expect a collective decision by the leadership team.",
    rationale="Large purchases at state-owned customers go to the leadership team; plan for every member, not one.",
    when=_when,
    then=lambda match: Emit(
        params={"unknown": match["deal"]["state_owned"] == "unknown", "mode": match["decision"]["mode"]}
    ),
)
