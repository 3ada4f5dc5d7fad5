"""DC503 shaped-by-competitor — a competitor shaped the customer's purchase objective (M5.2).

Why: whoever shapes the objective controls the deal; "your rival is already in
the bridal chamber". Fighting on the rival's chosen ground is a strategic error
that tactics rarely recover: compete on the objective itself.
Clears when: objective.shaped_by is us (the customer has adopted our framing) — or the deal is disqualified.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import EARLY, FindingRule, Kind, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.objective << is_a("objective") & (m.shaped_by == "competitor"))


RULE = FindingRule(
    code="DC503",
    symbol="shaped-by-competitor",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M5.2",
    phases=EARLY,
    topics=frozenset({Topic.OBJECTIVE, Topic.COMPETITION}),
    clears_fields=("objective.shaped_by",),
    summary="A competitor shaped the customer's objective: compete on the objective, not on their terms.",
    rationale="The one who shapes the objective controls the deal; tactics on a rival's ground rarely win.",
    when=_when,
)
