"""DC608 customer-credit-risk — the customer's finances or credit are poor or under watch (M6.3, M9.1).

Why: some projects carry funding risk. A customer with weak finances turns a
won deal into a receivable that never comes in.
Clears when: customer.credit is good (with evidence), or payment terms secure the risk.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & ((m.credit == "poor") | (m.credit == "watch")))


RULE = FindingRule(
    code="DC608",
    symbol="customer-credit-risk",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M6.3",
    topics=frozenset({Topic.PAYMENT}),
    clears_fields=("customer.credit",),
    summary="The customer's finances or credit are a risk.",
    rationale="Credit risk decides whether a won deal turns into money.",
    when=_when,
    then=lambda match: Emit(params={"credit": match["deal"]["credit"]}),
)
