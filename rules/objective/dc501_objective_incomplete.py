"""DC501 objective-incomplete — the sales objective does not answer who, what, how much and when (M5.1).

Why: an objective is clear only with time and money: who buys, what, for how
much, by when. Each blank is a guess the forecast rests on.
The deal record already answers two of the four: its `amount` is "how much"
(whenever it is above zero) and its `expected_close` is "when". So the rule
asks only for what is really missing: who or what, or "when" if neither the
objective nor the deal has a date; "how much" is listed only when the objective
lacks it and the deal's amount is zero (alone it does not fire the rule).
Clears when: who and what are known, and "when" is known from the objective or the deal's expected close.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import EARLY, Emit, FindingRule, Kind, Severity, Topic
from ..conditions import is_a

PARTS = ("who", "what", "how_much", "when")


def _when(thresholds):
    # "how much" alone does not fire the rule: with a zero amount it is only listed among what is missing.
    return when_all(
        c.objective << is_a("objective") & ((m.has_who == False) | (m.has_what == False) | (m.when_known == False)),  # noqa: E712
    )


def _missing(match) -> list[str]:
    objective = match["objective"]
    answered = {
        "who": objective["has_who"],
        "what": objective["has_what"],
        "how_much": objective["how_much_known"],
        "when": objective["when_known"],
    }
    return [part for part in PARTS if not answered[part]]


RULE = FindingRule(
    code="DC501",
    symbol="objective-incomplete",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M5.1",
    phases=EARLY,
    topics=frozenset({Topic.OBJECTIVE}),
    asks=("decision_maker", "user"),
    clears_fields=("objective.who", "objective.what", "objective.how_much", "objective.when", "amount", "expected_close"),
    summary="The sales objective is missing who, what, how much or when.",
    rationale="An objective without time and money cannot be planned, resourced or forecast.",
    when=_when,
    then=lambda match: Emit(params={"missing": _missing(match)}),
)
