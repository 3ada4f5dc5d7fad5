"""DC306 fragile-supporter — an influential supporter who avoids conflict (M3.4).

Why: a supporter who avoids conflict (和平主义者) gives up his position when internal conflict starts, so his
support disappears exactly when it is needed.
Clears when: avoids_conflict is found to be false (a second supporter who takes a stand
lowers the risk but does not remove it). Unknown power (rank -1) keeps it silent.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.stance == "supports") & (m.avoids_conflict == "yes") & (m.power_rank >= 2)
    )


RULE = FindingRule(
    code="DC306",
    symbol="fragile-supporter",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M3.4",
    subject=Subject.CONTACT,
    phases=PRE_SALE,
    topics=frozenset({Topic.SUPPORTERS}),
    clears_fields=("contacts.avoids_conflict",),
    summary="An influential supporter who avoids conflict will give way under pressure.",
    rationale="Support that folds under internal conflict cannot carry a contested decision.",
    when=_when,
    then=about("contact"),
)
