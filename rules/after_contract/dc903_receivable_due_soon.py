"""DC903 receivable-due-soon — a receivable falls due within receivable_due_soon_days (M9.1).

Why: arrive early on the due date: confirm the invoice, the approval chain and
the payer before the day, so payment is not held up by paperwork.
Clears when: the receivable is paid, or the due date has passed (then DC901 applies).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Severity, Subject, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.receivable << is_a("receivable") & (m.outstanding > 0) & (m.days_overdue <= 0)
        & (m.days_overdue >= -thresholds.receivable_due_soon_days)
    )


RULE = FindingRule(
    code="DC903",
    symbol="receivable-due-soon",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M9.1",
    subject=Subject.RECEIVABLE,
    topics=frozenset({Topic.PAYMENT}),
    clears_fields=("receivables.paid",),
    summary="A receivable falls due soon: be there early.",
    rationale="Payment delays start with missing paperwork; prepare before the due date.",
    when=_when,
    then=lambda match: Emit(
        subject=match["receivable"]["rid"],
        params={"outstanding": match["receivable"]["outstanding"], "days": -match["receivable"]["days_overdue"]},
    ),
)
