"""DC713 price-relationship-suspected — the customer keeps pressing on price and nobody has judged what holds the relationship (M7.3, M7.5).

Why: repeated price ultimatums are the sign of a relationship resting on price,
the first of three levels (price, personalised service, mutual dependence).
Judge the level honestly and move it up one: service made for a named contact,
then mutual dependence. The same teaching as DC712 when the level is recorded
as price; this rule reads the pressure because the level is not recorded
(a rule cannot OR a deal field and a pressure field against constants).
Same phases and yields as DC712.
Clears when: the relationship level is judged (service or mutual dependence), or
the ultimatums stop.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.relationship_level == "unknown"),
        c.pressure << is_a("pressure") & (m.ultimatums >= thresholds.ultimatums_to_verify),
    )


RULE = FindingRule(
    code="DC713",
    symbol="price-relationship-suspected",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.3",
    phases=frozenset({Phase.ENTRY, Phase.PROPOSAL, Phase.AFTER_CONTRACT}),
    yields_to=("DC705", "DC714"),
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("customer.relationship_level", "price_pressure.ultimatums"),
    summary="Repeated price ultimatums and the relationship level not judged: it probably rests on price.",
    rationale="A customer that keeps pressing on price is held by price, and leaves for a cheaper offer.",
    when=_when,
    then=lambda match: Emit(params={"ultimatums": match["pressure"]["ultimatums"]}),
)
