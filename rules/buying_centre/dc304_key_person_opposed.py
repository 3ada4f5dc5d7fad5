"""DC304 key-person-opposed — a decision maker or technical gatekeeper opposes us (M3.1).

Why: the decision maker can say the final no; the technical gatekeeper cannot
say yes but can say no. Either one against us stops the deal until we turn him
or neutralise his objection.
Clears when: the contact's stance is no longer opposes.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(
        c.contact << is_a("contact") & (m.stance == "opposes")
        & ((m.role.decision_maker == True) | (m.role.technical_gatekeeper == True))  # noqa: E712
    )


RULE = FindingRule(
    code="DC304",
    symbol="key-person-opposed",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M3.1",
    subject=Subject.CONTACT,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.stance",),
    summary="A decision maker or technical gatekeeper opposes us.",
    rationale="A key person against us holds a veto over the deal.",
    when=_when,
    then=about(
        "contact",
        roles=lambda match: [r for r in ("decision_maker", "technical_gatekeeper") if match["contact"]["role"][r]],
    ),
)
