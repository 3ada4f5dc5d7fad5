"""DC704 personal-before-organisational — we are serving a person's interest before the organisation's is met (M7.1).

Why: "interest is the bond, trust is the guarantee". The customer's
organisational interest (quality, service, fair price, a fitting solution)
comes first; a person's interest (recognition, achievement, security) second.
Personal interest pursued first is fragile and can turn into a liability.
Clears when: organisational_value_agreed is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.organisational_value_agreed != "yes"),
        c.contact << is_a("contact") & (m.personal_interest_engaged == True),
    )


RULE = FindingRule(
    code="DC704",
    symbol="personal-before-organisational",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.1",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("organisational_value_agreed",),
    summary="A person's interest is being served before the organisation's value is agreed.",
    rationale="Organisational interest first, personal interest second: the reverse order does not hold.",
    when=_when,
    then=about("contact"),
)
