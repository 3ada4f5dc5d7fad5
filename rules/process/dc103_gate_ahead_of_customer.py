"""DC103 gate-ahead-of-customer — the gate's target stage is ahead of the customer's buying step (M1.1).

Why: advancing to a stage whose buying step the customer has not reached puts
our pipeline ahead of the customer's purchase. Fires only in a gate check.
Clears when: the customer's buying_step reaches the target stage's step.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.gate << is_a("gate") & (m.to_lead > 0))


RULE = FindingRule(
    code="DC103",
    symbol="gate-ahead-of-customer",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M1.1",
    topics=frozenset({Topic.PROCESS}),
    clears_fields=("buying_step",),
    summary="The target stage is ahead of where the customer is in its purchase.",
    rationale="A stage is earned by the customer's progress; the target has not been earned yet.",
    when=_when,
    then=lambda match: Emit(params={"to_index": match["gate"]["to_index"]}),
    gate_only=True,
)
