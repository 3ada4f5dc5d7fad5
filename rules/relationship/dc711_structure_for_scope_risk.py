"""DC711 structure-for-scope-risk — the customer's goals may change during implementation and the payment terms are not settled (M9.1).

Why: when the customer's goals may change, the parts delivered last are the
ones most likely to be dropped (the book's case: the supply-chain module was
cut two years later; the quote had been weighted toward the finance part,
报价结构向财务部分倾斜). Weight the quote toward what is sure to be delivered,
price the uncertain part separately, and get paid by delivered part.
Clears when: the payment terms are agreed in the contract (with that structure),
or the customer's goals are firm.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.payment_agreed != "yes"),
        c.pressure << is_a("pressure") & (m.scope_may_change == "yes"),
    )


RULE = FindingRule(
    code="DC711",
    symbol="structure-for-scope-risk",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M9.1",
    phases=frozenset({Phase.NEGOTIATION}),
    topics=frozenset({Topic.PRICE, Topic.PAYMENT}),
    clears_fields=("negotiation.scope_may_change", "payment_terms.agreed"),
    summary="The scope may change during implementation: weight the quote toward the sure part, get paid by delivered part.",
    rationale="What is delivered last is what gets dropped; money placed there is lost with it.",
    when=_when,
)
