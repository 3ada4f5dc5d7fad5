"""DC406 sponsors-but-blind — we have sponsors but no insider and no coach (M4.3).

Why: sponsors give support, not information. With no one to tell us what
happens inside we can hold a majority of the evaluation votes and still lose
control of the sale, including conceding price under pressure we cannot verify.
Clears when: a qualified insider or a qualified coach is developed.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a, ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.sponsor >= 1), c.blind << is_a("blind"))


RULE = FindingRule(
    code="DC406",
    symbol="sponsors-but-blind",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M4.3",
    phases=PRE_SALE,
    yields_to=("DC403",),
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.supporter", "contacts.power", "contacts.shares_information", "contacts.coach_conditions", "contacts.caveats"),
    summary="Sponsors but no insider or coach: we cannot see what happens inside.",
    rationale="Support without information leaves the sale out of our control.",
    when=_when,
    then=lambda match: Emit(params={"sponsors": match["ledger"]["sponsor"]}),
)
