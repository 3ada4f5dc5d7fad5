"""DC104 passed-unmet-milestone — the deal sits in a later stage than a milestone it never reached (M1.2).

Why: a deal pushed past a milestone has a sharply lower chance of success;
go back and close the gap before investing more.
Clears when: the milestone is recorded in `milestones`, or the stage is moved back.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about_milestone, is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal"),
        c.milestone << is_a("milestone") & (m.reached == False) & (m.stage_index < c.deal.stage_index),  # noqa: E712
    )


RULE = FindingRule(
    code="DC104",
    symbol="passed-unmet-milestone",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M1.2",
    subject=Subject.MILESTONE,
    phases=PRE_SALE,
    yields_to=("DC102",),
    topics=frozenset({Topic.PROCESS}),
    clears_fields=("milestones", "stage"),
    summary="The deal has moved past a milestone the customer never reached.",
    rationale="Unmet exit criteria of earlier stages are the weak points of the deal.",
    when=_when,
    then=about_milestone,
)
