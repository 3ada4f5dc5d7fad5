"""DC307 opinion-leader-not-won — an opinion leader is not on our side (M3.1).

Why: an opinion leader sways the decision through expertise, track record or
personality rather than rank; others follow his view.
Clears when: the opinion leader's stance is supports.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, EARLY, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(c.contact << active_contact() & (m.role.opinion_leader == True) & (m.stance != "supports"))  # noqa: E712


RULE = FindingRule(
    code="DC307",
    symbol="opinion-leader-not-won",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M3.1",
    subject=Subject.CONTACT,
    phases=EARLY,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.stance",),
    summary="An opinion leader does not support us yet.",
    rationale="Opinion leaders move others; winning one wins several votes.",
    when=_when,
    then=about("contact", stance=lambda match: match["contact"]["stance"]),
)
