"""DC313 committee-partly-unknown — we know fewer committee members than the committee has (M3.5, M4.8).

Why: votes cannot be counted, nor won, from people we have not identified.
Clears when: decision.committee names as many contacts as decision.committee_size.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a, ledger


def _when(thresholds):
    return when_all(
        c.decision << is_a("decision") & (m.mode == "collective") & (m.committee_size > 0),
        c.ledger << ledger() & (m.committee_member < c.decision.committee_size),
    )


RULE = FindingRule(
    code="DC313",
    symbol="committee-partly-unknown",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M3.5",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    asks=("procurement_organiser", "insider", "coach"),
    clears_fields=("decision.committee",),
    summary="Some members of the decision committee are not identified.",
    rationale="An unknown member is an uncounted vote.",
    when=_when,
    then=lambda match: Emit(
        params={"known": match["ledger"]["committee_member"], "size": match["decision"]["committee_size"]}
    ),
)
