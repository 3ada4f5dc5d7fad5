"""DC303 key-person-not-covered — we have not met a decision maker or technical gatekeeper recently (M3.1, M4.8).

Why: the key-person strategy builds relationships with the people who most
influence the decision (step 5). A key person we have never met, or not for
longer than the playbook's `key_person_stale_days`, is not covered.
Clears when: the contact's last_contact is within key_person_stale_days of as_of.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact()
        & ((m.role.decision_maker == True) | (m.role.technical_gatekeeper == True))  # noqa: E712
        & ((m.never_contacted == True) | (m.days_since_contact > thresholds.key_person_stale_days))  # noqa: E712
    )


RULE = FindingRule(
    code="DC303",
    symbol="key-person-not-covered",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4.8",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.last_contact",),
    summary="A decision maker or technical gatekeeper we have not met, or not met recently.",
    rationale="Key persons decide the deal; coverage means regular, purposeful contact.",
    when=_when,
    then=about(
        "contact",
        roles=lambda match: [r for r in ("decision_maker", "technical_gatekeeper") if match["contact"]["role"][r]],
        never=lambda match: match["contact"]["never_contacted"],
        days=lambda match: match["contact"]["days_since_contact"],
    ),
)
