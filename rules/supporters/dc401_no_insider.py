"""DC401 no-insider — nobody inside the customer tells us what is going on (M4.1, M4.8).

Why: the first step of the key-person strategy is to find an insider; without
one we do not know the schedule, the budget, the organisation or the
competitors. Not fired when an insider was lost: DC403 covers that case.
Yields to DC404: when someone is marked insider but not (yet) qualified, that
finding asks about the person; "we have no insider" would assert what we have
not checked.
Clears when: one active contact is marked insider, at least watches, and shares information.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.insider == 0) & (m.insider_lost == 0))


RULE = FindingRule(
    code="DC401",
    symbol="no-insider",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4.1",
    phases=PRE_SALE,
    yields_to=("DC404",),
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.supporter", "contacts.power", "contacts.shares_information"),
    summary="No insider: find one before anything else.",
    rationale="Insiders supply schedule, budget, organisation and competitor information; the key-person strategy starts there.",
    when=_when,
)
