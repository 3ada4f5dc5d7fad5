"""DC409 no-coach — no coach and no sponsor to develop into one (M4, M4.6).

Why: a coach validates that the deal is real, reports every decision person's
stance and co-writes the plan. Most coaches are developed from sponsors, so
with neither, start by winning a sponsor. With a sponsor, DC410 applies instead.
Yields to DC405 and DC407: someone marked sponsor or coach whose conditions are
not (yet) met is asked about in person before we say we have none.
Clears when: a contact qualifies as coach, or as sponsor (then DC410 guides the next step).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.coach == 0) & (m.sponsor == 0))


RULE = FindingRule(
    code="DC409",
    symbol="no-coach",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4",
    phases=PRE_SALE,
    yields_to=("DC401", "DC403", "DC406", "DC405", "DC407"),
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.supporter", "contacts.coach_conditions", "contacts.stance", "contacts.power"),
    summary="No coach and no sponsor: win a sponsor, then develop him into a coach.",
    rationale="Without a coach nobody can confirm the deal is real or tell us where each decision person stands.",
    when=_when,
)
