"""DC314 buying-centre-thin — past the first stage, too few people of the buying centre are mapped (M4.8).

Why: the key-person strategy needs the customer's purchasing org chart and
each person's role (steps 2-3), and a broad united front (step 6). A deal
known through one or two people is a deal we cannot read.
Clears when: at least min_contacts_mapped active contacts have a role or a power circle above unaware.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, PRE_SALE, Severity, Topic
from ..conditions import is_a, ledger


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.stage_index >= 1),
        c.ledger << ledger() & (m.mapped_contact < thresholds.min_contacts_mapped),
    )


RULE = FindingRule(
    code="DC314",
    symbol="buying-centre-thin",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M4.8",
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.roles", "contacts.power", "contacts.active"),
    summary="Too few people of the buying centre are mapped for this stage.",
    rationale="Without the org chart and each person's role, nobody can tell who decides, who vetoes and who helps.",
    when=_when,
    then=lambda match: Emit(params={"mapped": match["ledger"]["mapped_contact"]}),
)
