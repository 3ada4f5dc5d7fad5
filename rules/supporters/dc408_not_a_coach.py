"""DC408 not-a-coach — a contact marked coach is one of the M4.5 look-alikes and the three coach conditions are not all confirmed (M4.5, M4.4).

Why: last deal's coach, a friend, a provider of public information or an
"internal seller" pushing our case for his own gain is not a coach just
because of that relationship (M4.5). Nor is the relationship itself a verdict:
a friend is not necessarily a coach, and not necessarily not one; the three
conditions decide (M4.4). So it fires only while they are not all confirmed.
Clears when: the three conditions are confirmed for this deal, or we stop counting the contact as coach.
The caveat is a true fact and stays in the record.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import COACH_CONDITIONS, about, is_a


def _when(thresholds):
    return when_all(
        c.contact << is_a("contact") & (m.marked.coach == True)  # noqa: E712
        & (
            (m.caveat.public_information_only == True) | (m.caveat.own_agenda == True)  # noqa: E712 - never a coach (M4.5)
            | ((m.has_caveat == True)  # noqa: E712 - a friend or last deal's coach: the three conditions decide (M4.4)
               & ((m.trusts_our_capability != "yes") | (m.trusted_by_organisation != "yes") | (m.wants_us_to_win != "yes")))
        )
    )


RULE = FindingRule(
    code="DC408",
    symbol="not-a-coach",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M4.5",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.coach_conditions", "contacts.supporter"),
    summary="Marked coach, a M4.5 look-alike, and the three coach conditions are not all confirmed.",
    rationale="Look-alike coaches give false confidence exactly when verification matters.",
    when=_when,
    then=about(
        "contact",
        caveats=lambda match: match["contact"]["caveats"],
        unconfirmed=lambda match: [name for name in COACH_CONDITIONS if match["contact"][name] != "yes"],
    ),
)
