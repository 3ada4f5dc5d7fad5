"""DC712 price-only-relationship — the customer buys from us on price alone: the first of three levels (M7.3).

Why: the three levels of a relationship are price, personalised service and
mutual dependence (一级关系靠价格，二级个性化服务，三级互相依赖). A relationship
resting on price invites repeated ultimatums (M7.5) and goes to the next
cheaper supplier. Move up one level: solve a named contact's real problem with
service made for them, then build mutual dependence (joint plans, integration).
Relationship work continues after the contract (M9.2): shown while entering,
proposing and after the contract; not while bidding (no lobbying during the
evaluation) or negotiating (price and terms come first there).
Yields to DC705 (verify the ultimatums first) and DC714 (our dependence on the
customer: the same move to mutual dependence, more urgent).
Clears when: the relationship has moved up to personalised service or mutual dependence.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.relationship_level == "price"))


RULE = FindingRule(
    code="DC712",
    symbol="price-only-relationship",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.3",
    phases=frozenset({Phase.ENTRY, Phase.PROPOSAL, Phase.AFTER_CONTRACT}),
    yields_to=("DC705", "DC714"),
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("customer.relationship_level",),
    summary="The relationship rests on price alone (level 1 of 3).",
    rationale="A customer held by price alone leaves for a cheaper offer and keeps pressing with ultimatums.",
    when=_when,
)
