"""DC604 grade-d-watch-for-triggers — the deal grades D by its expected close date; resource it accordingly (M6.4).

Why: time and resources are never enough; the grade says how much to invest:
watch when time allows and look for triggers (incumbent quality problems, service failures, upgrades, personnel changes).
It yields to DC108: when the customer is brewing the project or implementing,
meeting the decision level now is the cheapest move and the trigger itself
(M2.1); "watch when time allows" would contradict it.
Clears when: informational; it changes with expected_close (a different grade gives different advice).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal"), c.grade << is_a("grade") & (m.letter == "D"))


RULE = FindingRule(
    code="DC604",
    symbol="grade-d-watch-for-triggers",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M6.4",
    # how much to invest is decided before the negotiation; at the table the price and terms cards speak
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC108",),
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close", "customer_state"),
    summary="Grade D: watch when time allows and look for triggers (incumbent quality problems, service failures, upgrades, personnel changes).",
    rationale="Resources follow the grade: the nearer and surer the close, the more we commit.",
    when=_when,
    then=lambda match: Emit(
        params={"days_to_close": match["deal"]["days_to_close"], "state": match["deal"]["customer_state"]}
    ),
)
