"""DC403 lost-insider — our insider has left the project and nobody else sees inside (M4.7).

Why: losing the only insider makes the sale blind and uncontrolled.
Clears when: another active insider or a qualified coach is developed.
"""

from durable.lang import c, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.lost << is_a("insider_lost"), c.blind << is_a("blind"))


RULE = FindingRule(
    code="DC403",
    symbol="lost-insider",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M4.7",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=(
        "contacts.supporter", "contacts.active", "contacts.power", "contacts.shares_information", "contacts.coach_conditions", "contacts.caveats",
    ),
    summary="Our insider has left the project and we have no other insider or coach.",
    rationale="Without anyone inside, the sale can no longer be steered.",
    when=_when,
    then=about("lost"),
)
