"""DC311 unanimity-veto — a unanimous decision and a committee member opposes us (M3.5).

Why: under unanimity one opponent is a veto.
Clears when: no committee member's stance is opposes.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(
        c.decision << is_a("decision") & (m.mode == "collective") & (m.rule == "unanimity"),
        c.opponent << is_a("committee_opponent"),
    )


RULE = FindingRule(
    code="DC311",
    symbol="unanimity-veto",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M3.5",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE, Topic.TENDER}),
    clears_fields=("contacts.stance", "decision.committee"),
    summary="Unanimity is required and a committee member opposes us.",
    rationale="One opposing vote is enough to lose under unanimity.",
    when=_when,
    then=about("opponent"),
)
