"""DC408 not-a-coach — a contact marked coach is one of the M4.5 look-alikes (M4.5).

Why: last deal's coach must be re-qualified for this deal; a friend, a
provider of public information, or an "internal seller" pushing our case for
his own gain is not a coach, whatever he says.
Clears when: the contact is re-qualified for this deal and the caveat is removed, or he is no longer counted as coach.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.contact << is_a("contact") & (m.marked.coach == True) & (m.has_caveat == True))  # noqa: E712


RULE = FindingRule(
    code="DC408",
    symbol="not-a-coach",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M4.5",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.coach_conditions", "contacts.caveats"),
    summary="Marked coach, but the relationship is one that M4.5 says is not coaching.",
    rationale="Look-alike coaches give false confidence exactly when verification matters.",
    when=_when,
    then=about("contact", caveats=lambda match: match["contact"]["caveats"]),
)
