"""DC714 dependent-on-customer — this customer is a large share of our sales (M9.4, M7.3).

Why: about 20% of customers bring about 80% of sales, and a key account leaving
hurts badly (M9.4). When one customer carries this much of our sales, our
dependence is its leverage in price talks. Make the dependence mutual (M7.3
level 3: joint plans, our service built into its operations, ties to several
people, not one) and tell our management so the company widens its base.
Clears when: the customer's share of our sales falls below the playbook's threshold.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.share_of_our_sales >= thresholds.customer_dependence_percent))


RULE = FindingRule(
    code="DC714",
    symbol="dependent-on-customer",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M9.4",
    # not while qualifying (nothing to deepen yet) or bidding (no lobbying during the evaluation)
    phases=frozenset({Phase.ENTRY, Phase.PROPOSAL, Phase.NEGOTIATION, Phase.AFTER_CONTRACT}),
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("customer.share_of_our_sales",),
    summary="This customer is a large share of our sales: our dependence is its leverage.",
    rationale="A key account leaving hurts badly, and in price talks the customer knows it.",
    when=_when,
    then=lambda match: Emit(params={"share": match["deal"]["share_of_our_sales"], "level": match["deal"]["relationship_level"]}),
)
