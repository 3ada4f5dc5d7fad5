"""DC902 receivable-bad-debt — a receivable is overdue longer than bad_debt_days (six months) (M9.1).

Why: more than six months past due is treated as bad debt (呆帐坏帐).
Clears when: the receivable is paid.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Severity, Subject, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.receivable << is_a("receivable") & (m.outstanding > 0) & (m.days_overdue > thresholds.bad_debt_days)
    )


RULE = FindingRule(
    code="DC902",
    symbol="receivable-bad-debt",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M9.1",
    subject=Subject.RECEIVABLE,
    topics=frozenset({Topic.PAYMENT}),
    clears_fields=("receivables.paid",),
    summary="A receivable is overdue beyond the bad-debt limit.",
    rationale="Past six months, an unpaid receivable is bad debt; escalate now.",
    when=_when,
    then=lambda match: Emit(
        subject=match["receivable"]["rid"],
        params={"outstanding": match["receivable"]["outstanding"], "days": match["receivable"]["days_overdue"]},
    ),
)
