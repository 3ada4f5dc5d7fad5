"""DC512 incumbent-in-place — a rival is the customer's current supplier and the customer is not known to be unhappy with it (M6.4).

Why: a customer satisfied with, or still hopeful about, its incumbent does not
switch (grades C and D, M6.4); the openings are the incumbent's failures —
quality problems, service failures, upgrades, personnel changes — and the
people they hurt. The user department is the one that really feels a need (M2.1).
Never run the incumbent down in front of the customer: facts, not attacks (M7.4: integrity).
Silent when the customer state says the incumbent keeps failing (then we know the reason to switch).
It yields to DC604: a grade-D deal is already told to watch for exactly these triggers.
Clears when: we know where the incumbent fails the customer and who suffers from it (customer state: incumbent failing).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.customer_state != "incumbent_failing"),
        c.rival << is_a("competitor") & (m.incumbent == True),  # noqa: E712
    )


RULE = FindingRule(
    code="DC512",
    symbol="incumbent-in-place",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="M6.4",
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL}),
    yields_to=("DC604",),
    topics=frozenset({Topic.COMPETITION}),
    asks=("user", "insider", "coach"),
    clears_fields=("customer_state", "competitors"),
    summary="A rival is the incumbent supplier and we have not found where it fails the customer.",
    rationale="A customer content with its supplier does not switch; the incumbent's failures and the people they hurt are the opening.",
    when=_when,
    then=lambda match: Emit(
        subject=match["rival"]["id"],
        params={"name": match["rival"]["name"], "state": match["deal"]["customer_state"]},
    ),
)
