"""DC301 decision-maker-unidentified — nobody in the contact list is the decision maker (M3.1, M4.8).

Why: the decision maker weighs economic impact and risk and says the final
yes; a deal plan that does not name him rests on guesses (key-person strategy
steps 3 and 4).
Clears when: a contact has the role decision_maker.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.decision_maker == 0))


RULE = FindingRule(
    code="DC301",
    symbol="decision-maker-unidentified",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M3.1",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    asks=("insider", "procurement_organiser", "coach"),
    clears_fields=("contacts.roles",),
    summary="No contact is identified as the decision maker.",
    rationale="Without knowing who decides, nobody can plan who to win and in what order.",
    when=_when,
)
