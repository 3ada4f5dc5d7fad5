"""DC606 no-close-date — the deal has no expected close date, so it cannot be graded (M6.4, M5.1).

Why: the grade, the resources and the forecast all hang on when the customer
will buy; "when" is one of the four questions of the objective.
Clears when: expected_close is set.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.has_close_date == False))


RULE = FindingRule(
    code="DC606",
    symbol="no-close-date",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M6.4",
    phases=PRE_SALE,
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close",),
    summary="No expected close date: the deal cannot be graded.",
    rationale="Without a close date there is no grade, no resource plan and no forecast.",
    when=_when,
)
