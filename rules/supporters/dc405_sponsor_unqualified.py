"""DC405 sponsor-unqualified — a contact marked sponsor lacks power or does not support us (M4).

Why: a sponsor (1) has power or influence (political or core circle, or an
opinion leader) and (2) supports us and wants us to win; short of either, the
support we count on will not carry the decision. A power circle or stance
nobody has found out yet is reported as such (`power_unknown`, stance
`unknown`): the rep is asked to find out, not told the contact fails.
Clears when: the contact supports us and is in the political or core circle or is an opinion leader.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.sponsor == True)  # noqa: E712
        & ((m.stance != "supports") | ((m.power_rank < 2) & (m.role.opinion_leader == False)))  # noqa: E712
    )


RULE = FindingRule(
    code="DC405",
    symbol="sponsor-unqualified",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M4",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.power", "contacts.stance", "contacts.supporter"),
    summary="Marked sponsor, but without power or influence, or not on our side.",
    rationale="A sponsor's value is power used in our favour; either half missing means no sponsor.",
    when=_when,
    then=about(
        "contact",
        stance=lambda match: match["contact"]["stance"],
        powerless=lambda match: 0 <= match["contact"]["power_rank"] < 2 and not match["contact"]["role"]["opinion_leader"],
        power_unknown=lambda match: match["contact"]["power_rank"] < 0 and not match["contact"]["role"]["opinion_leader"],
    ),
)
