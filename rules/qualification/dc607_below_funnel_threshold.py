"""DC607 below-funnel-threshold — the order is below the funnel's amount threshold (M6.5, M6.1).

Why: small orders are kept out of the funnel so the funnel stays cheap to
maintain; forecasts exclude them. Handle it, but do not spend key-account
effort on it.
Clears when: amount reaches funnel_min_amount.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Mark, PRE_SALE, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.amount < thresholds.funnel_min_amount))


RULE = FindingRule(
    code="DC607",
    symbol="below-funnel-threshold",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M6.5",
    phases=PRE_SALE,
    topics=frozenset({Topic.QUALIFICATION}),
    mark=Mark.BELOW_FUNNEL,
    clears_fields=("amount",),
    summary="Below the funnel threshold: keep it out of the funnel and the forecast.",
    rationale="A funnel cluttered with small orders costs more to manage than it tells.",
    when=_when,
)
