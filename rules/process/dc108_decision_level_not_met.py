"""DC108 decision-level-not-met — the customer is at one of our two chances to meet the decision level and we have not met the decision maker (M2.1).

Why: the decision level matters most during internal brewing (内部酝酿): that is
when the project is shaped. The seller's two chances to meet it are internal
brewing and installation & implementation (安装实施), when the decision level
judges the result and decides the next purchase (buying steps tagged
`decision_window` in the stage model: the first stage, and implementation).
Clears when: a decision maker's last_contact is within key_person_stale_days of as_of.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
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
    phases=frozenset({Phase.QUALIFY, Phase.AFTER_CONTRACT}),
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.last_contact", "contacts.roles"),
    summary="The customer is in a decision window and we have not met the decision level.",
    rationale=(
        "Internal brewing and implementation are the two chances to meet the decision level: "
        "shape the project, then let the top judge the result."
    ),
    when=_when,
    then=lambda match: Emit(params={"after_contract": match["deal"]["step_tag"]["after_contract"]}),
)
