"""DC506 objective-meaning-unclear — a customised solution whose meaning to this customer is not agreed (M5.4).

Why: "central purchasing" or "project management" mean different things to
different groups; is it a data-flow or a work-flow problem? Until we and the
customer mean the same thing, the proposal answers the wrong question.
Clears when: objective.meaning_agreed is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import EARLY, FindingRule, Kind, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.solution == "customised"),
        c.objective << is_a("objective") & (m.meaning_agreed != "yes"),
    )


RULE = FindingRule(
    code="DC506",
    symbol="objective-meaning-unclear",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M5.4",
    phases=EARLY,
    topics=frozenset({Topic.OBJECTIVE}),
    asks=("user", "technical_gatekeeper"),
    clears_fields=("objective.meaning_agreed",),
    summary="Solution sale: what the objective means to this customer is not agreed.",
    rationale="A solution proposal built on a different reading of the objective answers the wrong question.",
    when=_when,
)
