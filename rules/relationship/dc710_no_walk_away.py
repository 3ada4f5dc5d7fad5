"""DC710 no-walk-away — price is being negotiated and we have not set our lowest acceptable price (M7.5).

Why: without a walk-away point and one person on our side who may approve going
below the quote, every push at the table is answered on the spot, and what is
conceded under pressure cannot be verified first.
Yields to DC708 (hold the price), which names the walk-away point when it is missing.
Clears when: the walk-away point is set (and who may approve going below the quote).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.pressure << is_a("pressure")
        & (m.has_walk_away == False)  # noqa: E712
        & ((m.concession_requested == True) | (m.ultimatums >= 1))  # noqa: E712
    )


RULE = FindingRule(
    code="DC710",
    symbol="no-walk-away",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M7.5",
    phases=frozenset({Phase.NEGOTIATION}),
    yields_to=("DC708",),
    topics=frozenset({Topic.PRICE}),
    clears_fields=("negotiation.walk_away",),
    summary="Price is under discussion and we have no walk-away point.",
    rationale="Without a floor and one person who may approve going below the quote, pressure is answered at the table.",
    when=_when,
)
