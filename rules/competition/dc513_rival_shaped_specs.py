"""DC513 rival-shaped-specs — a rival shaped the customer's purchase specifications (M5.2, M2.1).

Why: whoever shapes what the customer buys controls the deal (M5.2); the last
chance to change the specifications is before the tender document is issued
(M2.1: the boundary between system design and evaluation is the issue of the
tender document). Before that: technical exchanges to rewrite the clauses
that only the rival meets. After it: only the official clarification remains.
The template follows `fixed` (the customer's step has fixed the specs, or the tender is out).
It yields to DC503 (the rival shaped the objective itself: reframe what to buy first)
and DC107 (we entered late on a customised solution: that finding already says
to query the clauses written for a rival and decide whether to bid).
Silent once we decided not to bid.
Clears when: the clauses that favour the rival are changed to open requirements (the rival no longer shapes the specs).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.bid_decision != "no_bid"),
        c.rival << is_a("competitor") & (m.shaped_specs == "yes"),
    )


def _then(match):
    deal = match["deal"]
    fixed = deal["step_tag"]["specs_fixed"] or deal["tender_published"] == "yes"
    return Emit(
        subject=match["rival"]["id"],
        params={"name": match["rival"]["name"], "rivals": deal["competitors"], "fixed": fixed},
    )


RULE = FindingRule(
    code="DC513",
    symbol="rival-shaped-specs",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M5.2",
    phases=frozenset({Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC503", "DC107"),
    topics=frozenset({Topic.COMPETITION, Topic.TENDER}),
    clears_fields=("competitors", "tender.bid_decision"),
    summary="A rival shaped the purchase specifications: change them before the tender, or clarify after it.",
    rationale="Specifications written around a rival decide the tender before it opens.",
    when=_when,
    then=_then,
)
