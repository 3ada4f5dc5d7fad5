"""DC105 stalled-in-stage — the deal has stayed in its stage longer than the stage model allows (M1.3).

Why: staying in one stage too long is itself a warning sign: the rep is stuck
before a milestone, and a manager should step in. Before the contract the cause
is on the way to the order (approval, funds, a decision, a competitor); after it
(the customer's step is tagged `after_contract`) it is acceptance or payment
holding up, so the text follows the customer's step.
Clears when: the deal reaches the stage's milestones and moves on, or stage_entered is corrected.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Mark, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.has_stall_limit == True) & (m.days_over_stall > 0))


RULE = FindingRule(
    code="DC105",
    symbol="stalled-in-stage",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M1.3",
    # after the contract, a stall with acceptance open or disputed is said better by those cards
    yields_to=("DC906", "DC909"),
    topics=frozenset({Topic.PROCESS}),
    mark=Mark.STALLED,
    clears_fields=("stage", "stage_entered", "milestones"),
    summary="The deal has been in its stage longer than the stage model's limit.",
    rationale="A deal that stops moving is stuck before a milestone; the longer it sits, the less likely it moves.",
    when=_when,
    then=lambda match: Emit(
        params={
            "days": match["deal"]["days_in_stage"],
            "limit": match["deal"]["stall_days"],
            "after_contract": match["deal"]["step_tag"]["after_contract"],
        }
    ),
)
