"""DC402 single-insider — everything we know comes through one person (M4.2).

Why: one insider can be wrong, partial or reassigned; develop several and
cross-check what they say.
Clears when: a second qualified insider is developed.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a, ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.insider == 1), c.insider << is_a("insider"))


RULE = FindingRule(
    code="DC402",
    symbol="single-insider",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M4.2",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.supporter", "contacts.power", "contacts.shares_information"),
    summary="Only one insider: develop more and cross-check what they say.",
    rationale="A single source of inside information cannot be verified and can be lost overnight.",
    when=_when,
    then=about("insider"),
)
