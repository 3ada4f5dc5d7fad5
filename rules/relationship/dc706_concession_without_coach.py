"""DC706 concession-without-coach — a late price concession is asked and we are blind (M7.5, M4.3).

Blind: no qualified insider and no coach to tell us if the pressure is real.

Why: sponsors without an insider or coach leave us blind, and conceding price
under pressure we cannot verify is how a sale slips out of our control (M4.3,
M7.5). It rests on the derived fact `blind` (no qualified insider AND no coach,
M4.7): a deal with a qualified insider can verify the pressure and is not blind.
Clears when: a contact qualifies as insider or coach, or price_pressure.verified is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.step_tag.negotiation == True),
        c.pressure << is_a("pressure") & (m.concession_requested == True) & (m.verified == False),
        c.blind << is_a("blind"),
    )


RULE = FindingRule(
    code="DC706",
    symbol="concession-without-coach",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M7.5",
    phases=frozenset({Phase.NEGOTIATION}),  # a submitted bid is sealed: concessions are negotiated afterwards
    topics=frozenset({Topic.PRICE}),
    clears_fields=(
        "price_pressure.verified", "contacts.supporter", "contacts.power", "contacts.shares_information",
        "contacts.coach_conditions",
    ),
    summary="A late price concession is asked and we are blind: no insider or coach can verify the pressure.",
    rationale="An unverifiable concession at the end is money given away to a tactic.",
    when=_when,
)
