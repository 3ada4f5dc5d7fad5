"""DC705 unverified-ultimatums — the customer keeps citing a cheaper rival and we have not verified it (M7.5).

Why: repeated "ultimatums" from a large customer naming an unnamed cheaper
competitor may be a pressure tactic. Verify before conceding anything.
Clears when: price_pressure.verified is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.pressure << is_a("pressure") & (m.ultimatums >= thresholds.ultimatums_to_verify) & (m.verified == False)
    )


RULE = FindingRule(
    code="DC705",
    symbol="unverified-ultimatums",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M7.5",
    phases=frozenset({Phase.PROPOSAL, Phase.NEGOTIATION}),  # a submitted bid is sealed: no price talk during bidding
    yields_to=("DC706",),
    topics=frozenset({Topic.PRICE}),
    asks=("insider", "coach", "sponsor"),
    clears_fields=("price_pressure.verified",),
    summary="Repeated price ultimatums, not verified: verify before conceding.",
    rationale="A pressure tactic answered with a concession teaches the customer to repeat it.",
    when=_when,
    then=lambda match: Emit(params={"ultimatums": match["pressure"]["ultimatums"]}),
)
