"""DC504 shaper-unknown — past the first stage, we do not know who shaped the customer's requirements (M5.2, M5.3).

Why: if the customer's objective is clear and we cannot say who shaped it,
our relationship coverage is poor — and the shaper may be a rival.
Clears when: objective.shaped_by is us, competitor or nobody.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import EARLY, FindingRule, Kind, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.stage_index >= 1),
        c.objective << is_a("objective") & (m.shaped_by == "unknown"),
    )


RULE = FindingRule(
    code="DC504",
    symbol="shaper-unknown",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M5.3",
    phases=EARLY,
    topics=frozenset({Topic.OBJECTIVE, Topic.COMPETITION}),
    asks=("technical_gatekeeper", "user", "insider", "coach"),
    clears_fields=("objective.shaped_by",),
    summary="We do not know who shaped the customer's requirements.",
    rationale="Not knowing who wrote the requirements is itself evidence of poor coverage.",
    when=_when,
)
