"""DC108 decision-level-not-met — the customer is at a moment that matters for the decision level and we have not met the decision maker (M2.1).

Why: the decision level matters most during internal brewing; the seller's
two chances to meet it are internal brewing and evaluation & comparison
(buying steps tagged `decision_window` in the stage model).
Clears when: a decision maker's last_contact is within key_person_stale_days of as_of.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Severity, Topic
from ..conditions import is_a, ledger


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.step_tag.decision_window == True),
        c.ledger << ledger() & (m.decision_maker_met == 0),
    )


RULE = FindingRule(
    code="DC108",
    symbol="decision-level-not-met",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M2.1",
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts",),
    summary="The customer is in a decision window and we have not met the decision level.",
    rationale="Internal brewing and evaluation are the two chances to shape the decision at the top; miss them and others shape it.",
    when=_when,
)
