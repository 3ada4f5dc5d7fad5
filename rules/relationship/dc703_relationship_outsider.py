"""DC703 relationship-outsider — past the first stage, the customer still treats us as an outsider (M7.2, M7.4).

Why: an outsider has neither trust nor business. Trust is built by
introductions, purposeful repeated visits, integrity, expertise and
third-party proof — before the customer's choice, not after.
Clears when: customer.relationship is friend, supplier or partner.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.relationship == "outsider") & (m.stage_index >= 1))


RULE = FindingRule(
    code="DC703",
    symbol="relationship-outsider",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.2",
    phases=PRE_SALE,
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("customer.relationship",),
    summary="The customer still treats us as an outsider.",
    rationale="No trust, no business: an outsider is not chosen.",
    when=_when,
)
