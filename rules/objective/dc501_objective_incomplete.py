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
    # Fires on: no who, or no what, or no when in either the objective or the deal. durable-rules
    # cannot test another fact's field against a constant, so "who or what missing" is tested from
    # the deal's side as "has_close_date differs from has_who/has_what" (true only when they are false
    # once has_close_date is true).
    return when_all(
        c.objective << is_a("objective") & ((m.has_who == False) | (m.has_what == False) | (m.has_when == False)),  # noqa: E712
        c.deal << is_a("deal") & (
            (m.has_close_date == False)  # noqa: E712
            | (m.has_close_date != c.objective.has_who)
            | (m.has_close_date != c.objective.has_what)
        ),
    )


def _missing(match) -> list[str]:
    objective, deal = match["objective"], match["deal"]
    answered = {
        "who": objective["has_who"],
        "what": objective["has_what"],
        "how_much": objective["has_how_much"] or deal["amount"] > 0,
        "when": objective["has_when"] or deal["has_close_date"],
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
