"""DC107 late-entry-customised — we entered after the requirements were fixed, on a customised solution (M2.1).

Why: when the customer needs a customised or non-standard solution, the
earlier the seller enters, the higher the win rate. Entering once the tender
is out means the specifications were written without us, often around a rival.
Clears when: not clearable by later work; record entry_step honestly and qualify the deal (M6.1) with this in mind.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.solution == "customised") & (m.has_entry_step == True)
        & (m.entry_tag.specs_fixed == True)
    )


RULE = FindingRule(
    code="DC107",
    symbol="late-entry-customised",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M2.1",
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC113",),  # a suspected 陪标 says "don't make up the numbers" with the specific move
    topics=frozenset({Topic.COMPETITION, Topic.TENDER}),
    clears_fields=("entry_step",),
    summary="A customised solution, and we entered only after the requirements were fixed.",
    rationale="Late entry on a non-standard solution means competing on specifications someone else wrote.",
    when=_when,
)
