"""DC505 budget-without-evidence — the budget figure rests on our estimate or on nothing (M5.5).

Why: "靠证据说话": a budget of "about X" without evidence from the customer
side is a guess; funnels reviewed this way lose a third of their deals.
When the record does not say what the figure rests on (`unknown`), the
finding asks the rep to find out instead of asserting "no evidence".
Clears when: budget.evidence is customer_document or customer_statement.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.budget << is_a("budget") & ((m.evidence == "our_estimate") | (m.evidence == "none") | (m.evidence == "unknown")))


RULE = FindingRule(
    code="DC505",
    symbol="budget-without-evidence",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M5.5",
    phases=PRE_SALE,
    topics=frozenset({Topic.BUDGET}),
    asks=("purchaser", "decision_maker", "coach"),
    clears_fields=("budget.evidence",),
    summary="The budget has no evidence from the customer's side.",
    rationale="A budget we estimated ourselves is imagination, not evidence.",
    when=_when,
    then=lambda match: Emit(
        params={
            "evidence": match["budget"]["evidence"],
            "has_amount": match["budget"]["has_amount"],
            "unknown": match["budget"]["evidence"] == "unknown",
        }
    ),
)
