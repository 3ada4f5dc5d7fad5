"""DC601 grade-a-all-out — the deal grades A by its expected close date; resource it accordingly (M6.4).

Why: time and resources are never enough; the grade says how much to invest:
all-out: senior-management support, a dedicated team, technical exchanges and executive visits.
Grade A needs more than the date: supplier selection has started or is about to,
or a signed customer has new demand (M6.4). A customer state that says a later
grade is DC605's case (this rule yields to it); an unknown state makes the text
ask to confirm supplier selection before going all out.
All-out advice must not stand next to advice to hold back (C4): it yields to
findings that say control the investment or stop the loss (DC107 late entry,
DC503 competitor's objective, DC109 SOE funds not in place, DC607 below the
funnel), that we cannot see inside (DC403 lost insider, DC406 blind), that the
objective is not evidenced (DC502, M5.5), or that the grade is contradicted (DC605).
Clears when: informational; it changes with expected_close (a different grade gives different advice).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal"), c.grade << is_a("grade") & (m.letter == "A"))


RULE = FindingRule(
    code="DC601",
    symbol="grade-a-all-out",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M6.4",
    # how much to invest is decided before the negotiation; at the table the price and terms cards speak
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC503", "DC107", "DC403", "DC406", "DC605", "DC109", "DC502", "DC607"),
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close", "customer_state"),
    summary="Grade A: all-out: senior-management support, a dedicated team, technical exchanges and executive visits.",
    rationale="Resources follow the grade: the nearer and surer the close, the more we commit.",
    when=_when,
    then=lambda match: Emit(
        params={"days_to_close": match["deal"]["days_to_close"], "state": match["deal"]["customer_state"]}
    ),
)
