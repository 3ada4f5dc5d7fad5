"""DC302 technical-gatekeeper-unidentified — nobody is identified as technical gatekeeper (M3.1).

Why: the technical gatekeeper sets the standards and screens products; he
cannot say yes but he can say no. An unknown gatekeeper is an unknown veto.
Clears when: a contact has the role technical_gatekeeper.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.technical_gatekeeper == 0))


RULE = FindingRule(
    code="DC302",
    symbol="technical-gatekeeper-unidentified",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M3.1",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    asks=("user", "insider", "procurement_organiser"),
    clears_fields=("contacts.roles",),
    summary="No contact is identified as the technical gatekeeper.",
    rationale="The person who can veto on specifications is not on our map.",
    when=_when,
)
