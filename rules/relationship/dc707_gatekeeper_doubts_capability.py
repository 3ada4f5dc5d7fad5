"""DC707 gatekeeper-doubts-capability — the technical gatekeeper does not trust our capability to deliver (M7.4, M3.1).

Why: the technical gatekeeper can say no, and doubt is his usual reason.
Trust is built with proof, not promises: third-party test reports, reference
sites, factory visits, certifications, and being the expert who solves his problem.
Clears when: the gatekeeper's coach_conditions.trusts_our_capability is true.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.role.technical_gatekeeper == True) & (m.trusts_our_capability == "no")
    )


RULE = FindingRule(
    code="DC707",
    symbol="gatekeeper-doubts-capability",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M7.4",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    yields_to=("DC304",),  # an opposed gatekeeper: the opposition card already says to meet and prove
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.coach_conditions.trusts_our_capability",),
    summary="The technical gatekeeper doubts our capability: build trust with proof.",
    rationale="Doubt at the technical gate is answered by third-party proof and reference sites.",
    when=_when,
    then=about("contact"),
)
