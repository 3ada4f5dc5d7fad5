"""DC316 purchaser-not-covered — in the negotiation, a purchaser (购买人, finance) not met, not lately, or not recorded (M4.8, M3.1).

Why: the key-person strategy reaches every buying role (M4.8 steps 3 to 6).
The purchaser and finance gatekeeper care about price, terms and process
(M3.1): in the commercial negotiation they hold the contract's terms, its
approval and the payment terms (M9.1: clear payment terms in the contract).
Met, stale and unknown are judged as in DC303 (unknown: find out). A purchaser
who is also a decision maker, technical gatekeeper or core-circle member is
DC303's case: this rule yields to it for that person.
Clears when: the contact's last_contact is within key_person_stale_days of as_of.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Subject, Topic
from ..conditions import about, active_contact, not_covered


def _when(thresholds):
    return when_all(
        c.contact << active_contact()
        & (m.role.purchaser == True)  # noqa: E712
        & not_covered(thresholds)
    )


RULE = FindingRule(
    code="DC316",
    symbol="purchaser-not-covered",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4.8",
    subject=Subject.CONTACT,
    # price, terms and process are negotiated now (M3.1, COACHING_QUALITY stage table)
    phases=frozenset({Phase.NEGOTIATION}),
    yields_to=("DC303",),
    topics=frozenset({Topic.PEOPLE, Topic.PAYMENT}),
    clears_fields=("contacts.last_contact", "contacts.met"),
    summary="In the negotiation, a purchaser or finance gatekeeper (购买人) not met, not met recently, or not recorded.",
    rationale="Purchasing and finance hold price, terms, approval and payment; meet them before the contract.",
    when=_when,
    then=about(
        "contact",
        never=lambda match: match["contact"]["met"] == "no",
        unknown=lambda match: match["contact"]["met"] == "unknown",
        days=lambda match: match["contact"]["days_since_contact"],
    ),
)
