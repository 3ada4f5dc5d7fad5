"""DC602 grade-b-control-time — the deal grades B by its expected close date; resource it accordingly (M6.4).

Why: time and resources are never enough; the grade says how much to invest:
control the time: references, a tailored solution, trials.
It yields to findings that say hold back: the customer's state says a later
grade (DC605), late entry or a competitor's objective (DC107, DC503), SOE funds
not in place (DC109), below the funnel (DC607). The text follows the customer's
state when it is known (waiting on a decision, incumbent failing).
Clears when: informational; it changes with expected_close (a different grade gives different advice).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal"), c.grade << is_a("grade") & (m.letter == "B"))


RULE = FindingRule(
    code="DC602",
    symbol="grade-b-control-time",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M6.4",
    # how much to invest is decided before the negotiation; at the table the price and terms cards speak
    phases=frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL, Phase.BIDDING}),
    yields_to=("DC605", "DC107", "DC503", "DC109", "DC607"),
    topics=frozenset({Topic.QUALIFICATION}),
    clears_fields=("expected_close", "customer_state"),
    summary="Grade B: control the time: references, a tailored solution, trials.",
    rationale="Resources follow the grade: the nearer and surer the close, the more we commit.",
    when=_when,
    then=lambda match: Emit(
        params={"days_to_close": match["deal"]["days_to_close"], "state": match["deal"]["customer_state"]}
    ),
)
