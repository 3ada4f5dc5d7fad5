"""DC603 grade-c-keep-warm — the deal grades C by its expected close date; resource it accordingly (M6.4).

Why: time and resources are never enough; the grade says how much to invest:
keep attention and maintain relationships at low cost.
It yields to DC605 when the customer's state says a later grade still.
Clears when: informational; it changes with expected_close (a different grade gives different advice).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal"), c.grade << is_a("grade") & (m.letter == "C"))


RULE = FindingRule(
    code="DC603",
    symbol="grade-c-keep-warm",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M6.4",
    # how much to invest is decided before the negotiation; at the table the price and terms cards speak
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC605",),
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close", "customer_state"),
    summary="Grade C: keep attention and maintain relationships at low cost.",
    rationale="Resources follow the grade: the nearer and surer the close, the more we commit.",
    when=_when,
    then=lambda match: Emit(
        params={"days_to_close": match["deal"]["days_to_close"], "state": match["deal"]["customer_state"]}
    ),
)
