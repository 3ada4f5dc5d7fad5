"""DC113 accompanying-bid-risk — we suspect we are invited only to make up the numbers (陪标), and have not decided against bidding (M6.1).

Why: qualify before investing (M6.1). The signs of 陪标 — a specification
written for a rival, no insider, a late invitation — mean the money spent on
the bid may buy nothing. Ask the procurement organiser plainly, cross-check
with an insider or coach (M4.2), then decide; control the cost either way.
It yields to DC107: late entry on a customised solution already says to decide
on the odds and not burn money as a make-weight.
Clears when: we know whether we have a real chance (suspicion lifted), or we decide not to bid.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.accompanying_suspected == "yes") & (m.bid_decision != "no_bid")
    )


RULE = FindingRule(
    code="DC113",
    symbol="accompanying-bid-risk",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M6.1",
    phases=frozenset({Phase.PROPOSAL, Phase.BIDDING}),
    topics=frozenset({Topic.TENDER, Topic.QUALIFICATION}),
    asks=("procurement_organiser", "insider", "coach"),
    clears_fields=("tender.accompanying_suspected", "tender.bid_decision"),
    summary="Suspected 陪标 (invited to make up the numbers): ask plainly, decide, control the cost.",
    rationale="Money spent to make up the numbers buys nothing; qualify before investing.",
    when=_when,
)
