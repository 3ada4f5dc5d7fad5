"""DC305 hibernating-decision-maker — a decision maker is not active on the project (M3.2).

Why: a "hibernating" decision maker can wake up and bite at any time. Keep
him informed; and if we are losing, waking him up may be our reversal.
Clears when: the contact is active on the project again.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.contact << is_a("contact") & (m.role.decision_maker == True) & (m.active == False))  # noqa: E712


RULE = FindingRule(
    code="DC305",
    symbol="hibernating-decision-maker",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M3.2",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.PEOPLE}),
    clears_fields=("contacts.active", "contacts.last_contact"),
    summary="A decision maker is not involved in the project right now.",
    rationale="A decision maker out of sight can still overturn the deal at the end.",
    when=_when,
    then=about("contact", stance=lambda match: match["contact"]["stance"]),
)
