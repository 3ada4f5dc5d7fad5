"""DC702 relationship-personal-only — our relationship with the customer is friendship without business standing (M7.2, M7.3).

Why: a "friend" relationship is personal, not organisational; it does not
carry an order. Move toward partner: business and personal trust together,
up the levels from price to personalised service to mutual dependence.
Clears when: customer.relationship is supplier or partner.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.relationship == "friend"))


RULE = FindingRule(
    code="DC702",
    symbol="relationship-personal-only",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M7.2",
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("customer.relationship",),
    summary="Our relationship with the customer is personal, not organisational.",
    rationale="Personal goodwill has to be lifted into organisational trust before it can carry an order.",
    when=_when,
)
