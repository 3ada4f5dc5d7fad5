"""DC112 bid-no-bid-undecided — the tender document is out and we have not decided whether to bid (M6.1).

Why: not every project is an opportunity: qualify before investing ("don't
climb the ladder to find it leaned on the wrong wall", M6.1). A bid costs
money; decide on evidence — the need, our fit, who shaped the specification,
our insider or coach, the votes (M6.2, M4.3) — with the manager, before
spending on the bid document.
Silent once our bid is in (milestone bid_submitted; the six-step model only).
It yields to DC107 (late entry on a customised solution: it already asks for
this decision, with the reason) and DC113 (a suspected 陪标: the same decision, with what to ask first).
Clears when: bid or no-bid is decided.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.tender_published == "yes")
        & ((m.bid_decision == "undecided") | (m.bid_decision == "unknown")),
        c.milestone << is_a("milestone") & (m.mid == "bid_submitted") & (m.reached == False),  # noqa: E712
    )


RULE = FindingRule(
    code="DC112",
    symbol="bid-no-bid-undecided",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M6.1",
    phases=frozenset({Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC107", "DC113"),
    topics=frozenset({Topic.TENDER, Topic.QUALIFICATION}),
    clears_fields=("tender.bid_decision",),
    summary="The tender is out and bid/no-bid is undecided: decide on evidence before spending on the bid.",
    rationale="Money spent on a bid we cannot win is lost; qualify before investing.",
    when=_when,
)
