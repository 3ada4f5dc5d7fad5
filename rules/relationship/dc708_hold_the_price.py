"""DC708 hold-the-price — the customer has chosen us, its budget covers our quote, and it still asks us to cut (M7.5, M7.3).

Why: once the customer has chosen us and its budget covers the quote, a price
cut buys nothing: it is pressure, not a condition of the order. Hold the
price; any concession only in exchange for something of equal value (payment
terms, deposit, volume, schedule, a reference). Name who on our side may
approve going below the quote, and the walk-away point, before the next
meeting. The book's case: a 280万 budget, chosen three months earlier, quoted
140万 and pushed to 120万.
Yields to DC706 (blind: the block says hold the price and get the pressure
verified) and DC705 (unverified ultimatums: verify first, then trade).
Carries the walk-away point (DC710 yields to it) and any concession already
given for nothing (DC709 yields to it).
"Chosen us" is the negotiation record's own flag; the `selected` milestone
is not read (a rule cannot OR two facts' fields against constants).
Clears when: the customer stops asking for a cut, or is no longer known to
have chosen us, or the budget does not cover the quote.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.pressure << is_a("pressure")
        & (m.concession_requested == True)  # noqa: E712
        & (m.chosen_us == "yes")
        & (m.budget_covers_quote == "yes")
    )


def _then(match):
    pressure = match["pressure"]
    return Emit(
        params={
            "has_walk_away": pressure["has_walk_away"],
            "concessions": pressure["concessions"],
            "unreciprocated": pressure["concessions_unreciprocated"],
            "conceded_total": pressure["conceded_total"],
        }
    )


RULE = FindingRule(
    code="DC708",
    symbol="hold-the-price",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M7.5",
    phases=frozenset({Phase.NEGOTIATION}),
    yields_to=("DC706", "DC705"),
    topics=frozenset({Topic.PRICE}),
    clears_fields=(
        "price_pressure.concession_requested", "negotiation.chosen_us", "budget.amount", "negotiation.our_quote",
    ),
    summary="The customer chose us and its budget covers the quote, yet asks for a cut: hold the price, trade any concession.",
    rationale="A cut the order does not depend on is money given away, and teaches the customer to ask again.",
    when=_when,
    then=_then,
)
