"""DC106 next-milestone — a milestone of the current stage still to reach before the deal may advance (M1.2, M1.1).

Why: the next-best action in any stage is to move the customer to the
stage's milestone; it is what the stage gate will ask for.
Clears when: the milestone is recorded in `milestones`.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Mark, Severity, Subject, Topic
from ..conditions import about_milestone, is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal"),
        c.milestone << is_a("milestone") & (m.reached == False) & (m.stage_index == c.deal.stage_index),
    )


RULE = FindingRule(
    code="DC106",
    symbol="next-milestone",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M1.2",
    subject=Subject.MILESTONE,
    topics=frozenset({Topic.PROCESS}),
    mark=Mark.NEXT_MILESTONE,
    clears_fields=("milestones",),
    summary="A milestone of the current stage is still to be reached.",
    rationale="The current stage's milestones are the exit criteria the next stage gate checks.",
    when=_when,
    then=about_milestone,
)
