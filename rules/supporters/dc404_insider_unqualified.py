"""DC404 insider-unqualified — a contact marked insider does not meet an insider's conditions (M4).

Why: an insider must (1) at least see things happen and (2) be willing to
tell us; someone unaware, or who keeps what he knows to himself, gives us
nothing. A power circle or willingness that nobody has found out yet is
reported as such (`power_unknown`, `sharing: unknown`): the rep is asked to
test it, not told the contact fails.
Clears when: the contact's power circle is watcher or above and shares_information is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.insider == True)  # noqa: E712
        & ((m.power_rank < 1) | (m.shares_information != "yes"))
    )


RULE = FindingRule(
    code="DC404",
    symbol="insider-unqualified",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M4",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.power", "contacts.shares_information", "contacts.supporter"),
    summary="Marked insider, but sees nothing or does not share information.",
    rationale="Both conditions of an insider are required; otherwise the information we count on does not exist.",
    when=_when,
    then=about(
        "contact",
        unaware=lambda match: match["contact"]["power_rank"] == 0,
        power_unknown=lambda match: match["contact"]["power_rank"] < 0,
        sharing=lambda match: match["contact"]["shares_information"],
    ),
)
