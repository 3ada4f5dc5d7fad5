"""DC501 objective-incomplete — the sales objective does not answer who, what, how much and when (M5.1).

Why: an objective is clear only with time and money: who buys, what, for how
much, by when. Each blank is a guess the forecast rests on.
Clears when: objective.who, what, how_much and when are all filled in.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import EARLY, Emit, FindingRule, Kind, Severity, Topic
from ..conditions import is_a

PARTS = ("who", "what", "how_much", "when")


def _when(thresholds):
    return when_all(
        c.objective << is_a("objective")
        & ((m.has_who == False) | (m.has_what == False) | (m.has_how_much == False) | (m.has_when == False))
    )


RULE = FindingRule(
    code="DC501",
    symbol="objective-incomplete",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M5.1",
    phases=EARLY,
    topics=frozenset({Topic.OBJECTIVE}),
    asks=("decision_maker", "user"),
    clears_fields=("objective.who", "objective.what", "objective.how_much", "objective.when"),
    summary="The sales objective is missing who, what, how much or when.",
    rationale="An objective without time and money cannot be planned, resourced or forecast.",
    when=_when,
    then=lambda match: Emit(params={"missing": [p for p in PARTS if not match["objective"][f"has_{p}"]]}),
)
