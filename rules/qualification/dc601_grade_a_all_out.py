"""DC601 grade-a-all-out — the deal grades A by its expected close date; resource it accordingly (M6.4).

Why: time and resources are never enough; the grade says how much to invest:
all-out: senior-management support, a dedicated team, technical exchanges and executive visits.
Clears when: informational; it changes with expected_close (a different grade gives different advice).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal"), c.grade << is_a("grade") & (m.letter == "A"))


RULE = FindingRule(
    code="DC601",
    symbol="grade-a-all-out",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M6.4",
    phases=PRE_SALE,
    yields_to=("DC503", "DC107", "DC403"),
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close", "customer_state"),
    summary="Grade A: all-out: senior-management support, a dedicated team, technical exchanges and executive visits.",
    rationale="Resources follow the grade: the nearer and surer the close, the more we commit.",
    when=_when,
    then=lambda match: Emit(params={"days_to_close": match["deal"]["days_to_close"]}),
)
