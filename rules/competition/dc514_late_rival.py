"""DC514 late-rival — a rival entered after the specifications were fixed, and the deal is at the tender or the negotiation (M7.5).

Why: a rival that missed the specifications has little to win with but price:
expect a low bid that spoils the field, and the customer quoting it to press
us. Hold the relationship and the value case; verify any "they are cheaper"
before conceding anything (M7.5).
It yields to DC705: repeated unverified ultimatums already say "verify before conceding".
Clears when: the late rival drops out of the deal.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal"),
        c.rival << is_a("competitor") & (m.entered_late == "yes"),
    )


RULE = FindingRule(
    code="DC514",
    symbol="late-rival",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.5",
    phases=frozenset({Phase.BIDDING, Phase.NEGOTIATION}),
    yields_to=("DC705", "DC708"),
    topics=frozenset({Topic.COMPETITION, Topic.PRICE}),
    clears_fields=("competitors",),
    summary="A rival came in after the specifications were fixed: expect a price spoiler, hold the value case.",
    rationale="A late rival competes on price; a concession to unverified price talk is money given away.",
    when=_when,
    then=lambda match: Emit(
        subject=match["rival"]["id"],
        params={"name": match["rival"]["name"], "rivals": match["deal"]["competitors"]},
    ),
)
