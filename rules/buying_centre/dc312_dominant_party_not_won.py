"""DC312 dominant-party-not-won — the dominant party decides and a core-circle committee member is not with us (M3.5, M3.3).

Why: when the dominant party wins, the core-circle members on the committee
carry the decision; their support matters more than the vote count.
Clears when: every core-circle committee member's stance is supports.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(
        c.decision << is_a("decision") & (m.mode == "collective") & (m.rule == "dominant"),
        c.contact << is_a("contact") & (m.on_committee == True) & (m.power == "core") & (m.stance != "supports"),  # noqa: E712
    )


RULE = FindingRule(
    code="DC312",
    symbol="dominant-party-not-won",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M3.5",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.stance",),
    summary="The dominant party decides and a core-circle committee member does not support us.",
    rationale="Under a dominant-party rule the core circle's view is the decision.",
    when=_when,
    then=about("contact", stance=lambda match: match["contact"]["stance"]),
)
