"""DC101 milestone-not-reached — a stage gate asks to advance past a milestone the customer has not reached (M1.2).

Why: a deal that has not reached a stage's milestone must not advance; pushed
forward anyway, its chance of success drops sharply. Fires only in a gate
check, once per unmet milestone of every stage before the target.
Clears when: the milestone is recorded in `milestones`.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Mark, Severity, Subject, Topic
from ..conditions import about_milestone, is_a


def _when(thresholds):
    return when_all(
        c.gate << is_a("gate"),
        c.milestone << is_a("milestone") & (m.reached == False) & (m.stage_index < c.gate.to_index),  # noqa: E712
    )


RULE = FindingRule(
    code="DC101",
    symbol="milestone-not-reached",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M1.2",
    subject=Subject.MILESTONE,
    topics=frozenset({Topic.PROCESS}),
    mark=Mark.UNMET_MILESTONE,
    clears_fields=("milestones", "stage"),
    summary="The gate's target stage lies beyond a milestone the customer has not reached.",
    rationale="Milestones are exit criteria; skipping one sharply cuts the chance of winning.",
    when=_when,
    then=about_milestone,
    gate_only=True,
)
