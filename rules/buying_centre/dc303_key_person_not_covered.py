"""DC303 key-person-not-covered — we have not met a key person, not recently, or do not know whether we have (M4.8, M3.2).

Why: the key-person strategy builds relationships with the people who most
influence the decision (step 5). Key persons are judged by buying role and
power, never by title (M3.2): a decision maker, a technical gatekeeper, or
anyone in the core circle. One we have never met, or not for longer than the
playbook's `key_person_stale_days`, is not covered. When the record does not
say whether we have met him (no date, no "never met"), the finding asks the
rep to find out (`unknown`) instead of asserting "never met".
Clears when: the contact's last_contact is within key_person_stale_days of as_of.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Subject, Topic
from ..conditions import about, active_contact, not_covered


def _when(thresholds):
    return when_all(
        c.contact << active_contact()
        & ((m.role.decision_maker == True) | (m.role.technical_gatekeeper == True) | (m.power_rank >= 3))  # noqa: E712
        & not_covered(thresholds)
    )


RULE = FindingRule(
    code="DC303",
    symbol="key-person-not-covered",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4.8",
    subject=Subject.CONTACT,
    # not during bid evaluation: lobbying key persons then breaks the tender (COACHING_QUALITY stage table)
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.NEGOTIATION}),
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.last_contact", "contacts.met"),
    summary="A key person (decision maker, technical gatekeeper or core circle) not met, not met recently, or not recorded.",
    rationale="Key persons decide the deal; coverage means regular, purposeful contact.",
    when=_when,
    then=about(
        "contact",
        roles=lambda match: [r for r in ("decision_maker", "technical_gatekeeper") if match["contact"]["role"][r]],
        never=lambda match: match["contact"]["met"] == "no",
        unknown=lambda match: match["contact"]["met"] == "unknown",
        days=lambda match: match["contact"]["days_since_contact"],
    ),
)
