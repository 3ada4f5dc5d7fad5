"""DC605 grade-contradicted — the customer's state implies a later grade than the expected close date (M6.4, M5.5).

Why: a customer who is satisfied with the incumbent, or feels no urgency, does
not buy within six months because our CRM says so. When the close date and
the customer's own state disagree, the state is the evidence.
Clears when: expected_close is moved to match the customer's state, or customer_state shows real movement.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a

LETTERS = "ABCD"


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.state_grade_rank >= 0),
        c.grade << is_a("grade") & (m.rank < c.deal.state_grade_rank),
    )


RULE = FindingRule(
    code="DC605",
    symbol="grade-contradicted",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M6.4",
    phases=PRE_SALE,
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close", "customer_state"),
    summary="The close date says one grade, the customer's state a later one.",
    rationale="A close date the customer's own state contradicts is a forecast without evidence.",
    when=_when,
    then=lambda match: Emit(
        params={
            "grade": match["grade"]["letter"],
            "state_grade": LETTERS[match["deal"]["state_grade_rank"]],
            "state": match["deal"]["customer_state"],
        }
    ),
)
