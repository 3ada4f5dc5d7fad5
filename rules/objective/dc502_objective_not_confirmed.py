"""DC502 objective-not-confirmed — the customer has not confirmed the sales objective (M5.5, M5.3).

Why: evidence, not imagination. An objective only we believe in means either
the opportunity is not real yet, or the customer's objective is clear and we
do not know it.
When the record does not say whether the customer confirmed it, the finding
(`unknown`) asks the rep to find out rather than asserting "not confirmed":
without a confirmation we can point to, the objective is still unproven.
Clears when: objective.confirmed_by_customer is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.objective << is_a("objective") & (m.confirmed_by_customer != "yes"))


RULE = FindingRule(
    code="DC502",
    symbol="objective-not-confirmed",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M5.5",
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    topics=frozenset({Topic.OBJECTIVE}),
    asks=("decision_maker", "user", "sponsor"),
    clears_fields=("objective.confirmed_by_customer",),
    summary="The customer has not confirmed the objective.",
    rationale="An unconfirmed objective is our imagination; funnel reviews with this rule typically drop a third of deals.",
    when=_when,
    then=lambda match: Emit(params={"unknown": match["objective"]["confirmed_by_customer"] == "unknown"}),
)
