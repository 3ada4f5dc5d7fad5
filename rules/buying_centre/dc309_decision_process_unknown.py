"""DC309 decision-process-unknown — we know neither how this purchase will be decided nor how the last one was (M3.5).

Why: decision logic and culture persist. If the customer will not say how this
purchase is decided, ask how the last similar purchase was — customers tell
that readily.
Clears when: decision.mode is known, or decision.last_purchase_known is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.decision << is_a("decision") & (m.mode == "unknown") & (m.last_purchase_known == False))  # noqa: E712


RULE = FindingRule(
    code="DC309",
    symbol="decision-process-unknown",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M3.5",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    asks=("procurement_organiser", "decision_maker", "insider", "coach"),
    clears_fields=("decision.mode", "decision.last_purchase_known"),
    summary="Decision process unknown: learn how the last similar purchase was decided.",
    rationale="Past decisions are the best predictor of how this one will be made.",
    when=_when,
)
