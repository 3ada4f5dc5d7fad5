"""DC407 coach-missing-condition — a contact marked coach does not meet all three conditions (M4.4).

Why: a coach must trust our capability, be trusted by his organisation and
want us to win. Two of three is not a coach: a friend who doubts our solution
will not stake his name on it.
Clears when: all three coach_conditions are true for the contact.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact, unmet_coach_conditions


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.coach == True)  # noqa: E712
        & ((m.trusts_our_capability != "yes") | (m.trusted_by_organisation != "yes") | (m.wants_us_to_win != "yes"))
    )


RULE = FindingRule(
    code="DC407",
    symbol="coach-missing-condition",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M4.4",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.coach_conditions",),
    summary="Marked coach, but not all three coach conditions are met.",
    rationale="Only a contact meeting all three conditions can validate the deal and co-write the plan.",
    when=_when,
    then=about(
        "contact",
        failed=lambda match: unmet_coach_conditions(match["contact"])["failed"],
        unknown=lambda match: unmet_coach_conditions(match["contact"])["unknown"],
    ),
)
