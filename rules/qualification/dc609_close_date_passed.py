"""DC609 close-date-passed — the expected close date is already behind us and the deal is still open (M6.4, M1.3).

Why: a close date in the past is a forecast nobody updated; the deal slipped
and the reason is unknown.
Clears when: expected_close is set to a date after as_of, with the customer's evidence for it.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.has_close_date == True) & (m.days_to_close < 0)
        & (m.step_tag.after_contract == False)
    )


RULE = FindingRule(
    code="DC609",
    symbol="close-date-passed",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M6.4",
    phases=PRE_SALE,
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close",),
    summary="The expected close date has passed and the deal is still open.",
    rationale="A stale close date hides a slipped deal from the forecast.",
    when=_when,
    then=lambda match: Emit(params={"days": -match["deal"]["days_to_close"]}),
)
