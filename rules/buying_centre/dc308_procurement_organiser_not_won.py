"""DC308 procurement-organiser-not-won — the procurement organiser is not on our side (M3.1, M3.4).

Why: the procurement organiser runs the purchase process, knows every
participant's stance, helps set the evaluation criteria and writes the
evaluation report; many supplier suggestions reach the decision through him.
At a state-owned customer (M2.4) a NEUTRAL procurement organiser is normal: the
procurement officer there must be seen to be impartial. The text for a
state-owned customer works with the organiser through proper process
(documents on time, a clean bid), not by winning him over. It should not fire
on neutral there at all, but durable-rules cannot test another fact's field
against a constant (`c.deal.state_owned == "yes"` raises) and contact facts do
not carry the customer's ownership; until they do (a `customer_state_owned`
field like `on_committee`), neutral at a state-owned customer fires with the
proper-process text.
Clears when: the procurement organiser supports us (elsewhere), or no longer opposes us (state-owned).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact, is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal"),
        c.contact << active_contact() & (m.role.procurement_organiser == True) & (m.stance != "supports"),  # noqa: E712
    )


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
