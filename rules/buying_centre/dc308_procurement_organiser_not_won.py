"""DC308 procurement-organiser-not-won — the procurement organiser is not on our side (M3.1, M3.4).

Why: the procurement organiser runs the purchase process, knows every
participant's stance, helps set the evaluation criteria and writes the
evaluation report; many supplier suggestions reach the decision through him.
At a state-owned customer (M2.4) a NEUTRAL procurement organiser is normal: the
procurement officer there must be seen to be impartial, so the rule does not
fire on neutral there; on opposes (or unknown) its text works with the
organiser through proper process (documents on time, a clean bid), not by
winning him over.
Clears when: the procurement organiser supports us (elsewhere), or no longer opposes us (state-owned).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact, is_a


def _when(thresholds):
    organiser = active_contact() & (m.role.procurement_organiser == True)  # noqa: E712
    not_won = (m.stance == "opposes") | (m.stance == "unknown") | ((m.stance == "neutral") & (m.customer_state_owned != "yes"))
    return when_all(c.deal << is_a("deal"), c.contact << organiser & not_won)


RULE = FindingRule(
    code="DC308",
    symbol="procurement-organiser-not-won",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M3.1",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE, Topic.TENDER}),
    clears_fields=("contacts.stance",),
    summary="The procurement organiser does not support us yet (at a state-owned customer: work through proper process).",
    rationale="The person who runs the process controls its information and the evaluation report.",
    when=_when,
    then=about(
        "contact",
        stance=lambda match: match["contact"]["stance"],
        state_owned=lambda match: match["deal"]["state_owned"] == "yes",
    ),
)
