"""DC908 next-purchase — the project is accepted and the customer's next purchase is not yet found (M9.2, M6.4).

Why: 80% of sales come from existing customers (M9.2), and a signed customer
with new or expanded demand is a grade-A opportunity (M6.4). Once the project
is accepted, ask how it performs and what comes next: expansion, upgrades,
other lines or sites with the same problem.
"Accepted" as in DC907: fires when acceptance is signed, or not recorded while
the customer is at the installation step, and
yields to DC906 (acceptance still open) and DC105 (stalled after the contract).
It yields to DC108, which brings the decision level to see the results and asks
about the next purchase. A customer whose state is already "signed customer
with new demand" has its next purchase found.
Clears when: the next purchase is identified (implementation.next_purchase_identified, or customer_state new demand).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.next_purchase_identified != "yes") & (m.customer_state != "new_demand")
        & ((m.accepted == "yes") | ((m.accepted == "unknown") & (m.step_tag.after_contract == True)))  # noqa: E712
    )


RULE = FindingRule(
    code="DC908",
    symbol="next-purchase",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M9.2",
    phases=frozenset({Phase.AFTER_CONTRACT}),
    yields_to=("DC906", "DC909", "DC105", "DC108"),
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("implementation.next_purchase_identified", "customer_state"),
    summary="The project is accepted and the customer's next purchase is not yet found.",
    rationale="Most sales come from existing customers; an accepted project is the moment to find the next one.",
    when=_when,
    then=lambda match: Emit(params={"signed": match["deal"]["acceptance"] == "signed"}),
)
