"""DC511 no-differentiation — there are named rivals and we have not worked out why the customer should choose us (M5.2, M6.2).

Why: "我们的销售目标如何与竞争对手有所区隔?" Whoever shapes what the customer
buys controls the deal; fighting on the rival's ground is a strategic error
(M5.2). Qualifying weighs the gap to the competitors in brand, product,
service and relationship (M6.2). Without a difference the customer agrees
with, the customer can only compare prices.
One finding per rival (named in the title; merged into one card listing them).
It yields to DC503: when a rival shaped the objective itself, competing on the
objective is the move, and it says the same more urgently.
Clears when: our difference from the rivals is written down in words the customer agrees with.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.has_differentiation == False),  # noqa: E712
        c.rival << is_a("competitor"),
    )


RULE = FindingRule(
    code="DC511",
    symbol="no-differentiation",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M5.2",
    phases=frozenset({Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC503",),
    topics=frozenset({Topic.COMPETITION}),
    clears_fields=("differentiation",),
    summary="Named rivals, and why the customer should choose us over them is not worked out.",
    rationale="Without a difference the customer agrees with, the deal is fought on the rival's ground and on price.",
    when=_when,
    then=lambda match: Emit(
        subject=match["rival"]["id"],
        params={"name": match["rival"]["name"], "rivals": match["deal"]["competitors"]},
    ),
)
