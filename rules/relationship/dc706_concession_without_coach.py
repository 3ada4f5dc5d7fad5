"""DC706 concession-without-coach — a late price concession is asked and no coach can tell us if the pressure is real (M7.5, M4.3).

Why: conceding price under pressure we cannot verify is how a sale slips out
of our control; a coach is the one who can tell us where each decision person
really stands.
Clears when: a contact qualifies as coach, or price_pressure.verified is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a, ledger


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.step_tag.negotiation == True),
        c.pressure << is_a("pressure") & (m.concession_requested == True) & (m.verified == False),
        c.ledger << ledger() & (m.coach == 0),
    )


RULE = FindingRule(
    code="DC706",
    symbol="concession-without-coach",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M7.5",
    phases=frozenset({Phase.BIDDING, Phase.NEGOTIATION}),
    topics=frozenset({Topic.PRICE}),
    clears_fields=("price_pressure.verified", "contacts.supporter"),
    summary="A late price concession is asked and no coach can verify the pressure.",
    rationale="An unverifiable concession at the end is money given away to a tactic.",
    when=_when,
)
