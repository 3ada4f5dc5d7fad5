"""DC102 ahead-of-customer — our sales stage is ahead of the customer's own buying step (M1.1).

Why: milestones follow the customer's buying process, not our activity. A rep
who believes the deal is "in negotiation" while the customer has not approved
the purchase is forecasting his own hopes.
Clears when: the stage is moved back to the one matching the customer's buying step, or the customer really moves on.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Mark, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.stage_lead > 0))


RULE = FindingRule(
    code="DC102",
    symbol="ahead-of-customer",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M1.1",
    topics=frozenset({Topic.PROCESS}),
    mark=Mark.AHEAD_OF_CUSTOMER,
    clears_fields=("stage", "buying_step"),
    summary="Our stage is ahead of the customer's buying step.",
    rationale="Progress is measured by how far the customer has moved, not how busy we are.",
    when=_when,
)
