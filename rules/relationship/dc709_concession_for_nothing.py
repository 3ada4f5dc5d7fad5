"""DC709 concession-for-nothing — we already conceded on price and got nothing back for it (M7.5).

Why: every concession given for nothing teaches the customer to ask again. Get
something back for the last one (payment terms, deposit, volume, schedule, a
reference) before any further move.
Yields to DC708 (hold the price), which names any concession already given for
nothing on the same deal.
Clears when: each concession is matched by something the customer gave in return.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.pressure << is_a("pressure") & (m.concessions_unreciprocated >= 1))


def _then(match):
    pressure = match["pressure"]
    return Emit(
        params={
            "concessions": pressure["concessions"],
            "unreciprocated": pressure["concessions_unreciprocated"],
            "conceded_total": pressure["conceded_total"],
        }
    )


RULE = FindingRule(
    code="DC709",
    symbol="concession-for-nothing",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.5",
    phases=frozenset({Phase.PROPOSAL, Phase.NEGOTIATION}),  # a submitted bid is sealed: no price moves during bidding
    yields_to=("DC708",),
    topics=frozenset({Topic.PRICE}),
    clears_fields=("negotiation.concessions",),
    summary="A price concession was given for nothing in return.",
    rationale="A concession for nothing teaches the customer to ask again.",
    when=_when,
    then=_then,
)
