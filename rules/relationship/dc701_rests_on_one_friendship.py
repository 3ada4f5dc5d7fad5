"""DC701 rests-on-one-friendship — our only backer inside the customer is a personal friend (M7.2).

Why: a deal resting on one person's friendship is risky: people move, change
mood, change mind. Lift the personal relationship to an organisational one.
It fires only while the customer has not agreed that our solution serves the
organisation (`organisational_value_agreed`, M7.1): once it has, the support
rests on organisational value, not on the friendship alone.
Clears when: a second active contact supports us, or the customer agrees our
solution serves the organisation. Never by deleting the friendship: it is a true fact.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact, is_a, ledger


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.organisational_value_agreed != "yes"),
        c.ledger << ledger() & (m.backer == 1),
        c.contact << active_contact() & (m.stance == "supports") & (m.caveat.personal_friend == True),
    )


RULE = FindingRule(
    code="DC701",
    symbol="rests-on-one-friendship",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M7.2",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("contacts.stance", "contacts.active", "organisational_value_agreed"),
    summary="The deal's only supporter is a personal friend.",
    rationale="Friendship is personal and moves with the person; an order needs organisational ground.",
    when=_when,
    then=about("contact"),
)
