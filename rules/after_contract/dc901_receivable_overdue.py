"""DC901 receivable-overdue — a receivable is past due (M9.1).

Why: collect immediately when due; a partial payment is corrected at once.
The longer money stays out, the less of it comes back.
Clears when: the receivable is paid (paid equals amount) — or, if it is not yet due, the due date is correct.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Severity, Subject, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.receivable << is_a("receivable") & (m.outstanding > 0) & (m.days_overdue > 0)
        & (m.days_overdue <= thresholds.bad_debt_days)
    )


RULE = FindingRule(
    code="DC901",
    symbol="receivable-overdue",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M9.1",
    subject=Subject.RECEIVABLE,
    topics=frozenset({Topic.PAYMENT}),
    clears_fields=("receivables.paid", "receivables.due"),
    summary="A receivable is overdue: collect it now.",
    rationale="Overdue money is collected fastest in the first days; every week makes it harder.",
    when=_when,
    then=lambda match: Emit(
        subject=match["receivable"]["rid"],
        params={
            "outstanding": match["receivable"]["outstanding"],
            "days": match["receivable"]["days_overdue"],
            "partly_paid": match["receivable"]["partly_paid"],
        },
    ),
)
