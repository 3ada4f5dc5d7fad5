"""DC701 rests-on-one-friendship — our only backer inside the customer is a personal friend (M7.2).

Why: a deal resting on one person's friendship is risky: people move, change
mood, change mind. Lift the personal relationship to an organisational one.
Clears when: a second active contact supports us, or the friend's support rests on organisational value (remove the caveat).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact, ledger


def _when(thresholds):
    return when_all(
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
    clears_fields=("contacts.stance", "contacts.caveats"),
    summary="The deal's only supporter is a personal friend.",
    rationale="Friendship is personal and moves with the person; an order needs organisational ground.",
    when=_when,
    then=about("contact"),
)
