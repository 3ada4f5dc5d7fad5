"""DC308 procurement-organiser-not-won — the procurement organiser is not on our side (M3.1, M3.4).

Why: the procurement organiser runs the purchase process, knows every
participant's stance, helps set the evaluation criteria and writes the
evaluation report; many supplier suggestions reach the decision through him.
Clears when: the procurement organiser's stance is supports.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.role.procurement_organiser == True) & (m.stance != "supports")  # noqa: E712
    )


RULE = FindingRule(
    code="DC308",
    symbol="procurement-organiser-not-won",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M3.1",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE, Topic.TENDER}),
    clears_fields=("contacts.stance",),
    summary="The procurement organiser does not support us yet.",
    rationale="The person who runs the process controls its information and the evaluation report.",
    when=_when,
    then=about("contact", stance=lambda match: match["contact"]["stance"]),
)
