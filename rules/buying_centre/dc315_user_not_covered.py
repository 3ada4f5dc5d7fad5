"""DC315 user-not-covered — a user (使用人) we have not met, not recently, or do not know whether we have (M4.8, M2.1).

Why: the key-person strategy's six steps end in a broad united front with
everyone in the buying organisation (M4.8 step 6), not only the decision maker
and the technical gatekeeper (DC303). The user department is the one that
really discovers the need (M2.1) and cares about daily use (M3.1): while the
need is forming and the specifications are written, meet the users on site.
Met, stale and unknown are judged as in DC303 (unknown: find out). A user who
is also a decision maker, technical gatekeeper or core-circle member is DC303's
case: this rule yields to it for that person.
Clears when: the contact's last_contact is within key_person_stale_days of as_of.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import EARLY, FindingRule, Kind, Severity, Subject, Topic
from ..conditions import about, active_contact, not_covered


def _when(thresholds):
    return when_all(
        c.contact << active_contact()
        & (m.role.user == True)  # noqa: E712
        & not_covered(thresholds)
    )


RULE = FindingRule(
    code="DC315",
    symbol="user-not-covered",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M4.8",
    subject=Subject.CONTACT,
    # the user department discovers the need and shapes the specifications: qualify, entry, proposal (M2.1)
    phases=EARLY,
    yields_to=("DC303",),
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.last_contact", "contacts.met"),
    summary="A user (使用人) not met, not met recently, or not recorded.",
    rationale="The user department discovers the need; meet the users while the need and the specifications form.",
    when=_when,
    then=about(
        "contact",
        never=lambda match: match["contact"]["met"] == "no",
        unknown=lambda match: match["contact"]["met"] == "unknown",
        days=lambda match: match["contact"]["days_since_contact"],
    ),
)
