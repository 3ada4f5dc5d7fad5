"""DC310 majority-not-secured — a majority vote decides and our supporters on the committee are too few (M3.5).

Why: under a majority rule we need more than half the committee. Counting the
members whose stance is supports shows how many votes we still have to win.
Clears when: the committee members who support us reach committee_size // 2 + 1.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a, ledger


def _when(thresholds):
    return when_all(
        c.decision << is_a("decision") & (m.mode == "collective") & (m.rule == "majority") & (m.committee_size > 0),
        c.ledger << ledger() & (m.committee_supporter < c.decision.majority_needed),
    )


RULE = FindingRule(
    code="DC310",
    symbol="majority-not-secured",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M3.5",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE, Topic.TENDER}),
    clears_fields=("contacts.stance", "decision.committee"),
    summary="Majority vote: we do not yet have enough committee members on our side.",
    rationale="The arithmetic of the vote decides; every missing vote must be won by name.",
    when=_when,
    then=lambda match: Emit(
        params={
            "supporters": match["ledger"]["committee_supporter"],
            "needed": match["decision"]["majority_needed"],
            "size": match["decision"]["committee_size"],
        }
    ),
)
