"""DC410 develop-sponsor-into-coach — we have a sponsor but no coach (M4.6).

Why: most coaches are sponsors developed further. A sponsor already has power
and wants us to win; what is missing is usually his trust in our capability or
his standing with his own organisation.
Clears when: a contact qualifies as coach.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a, ledger, unmet_coach_conditions


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.coach == 0), c.sponsor << is_a("sponsor"))


RULE = FindingRule(
    code="DC410",
    symbol="develop-sponsor-into-coach",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4.6",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    yields_to=("DC406", "DC407"),
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.coach_conditions",),
    summary="We have a sponsor but no coach: develop the sponsor into a coach.",
    rationale="A sponsor is the shortest path to a coach; the plan names the conditions still missing.",
    when=_when,
    then=about(
        "sponsor",
        failed=lambda match: unmet_coach_conditions(match["sponsor"])["failed"],
        unknown=lambda match: unmet_coach_conditions(match["sponsor"])["unknown"],
    ),
)
