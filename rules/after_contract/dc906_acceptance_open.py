"""DC906 acceptance-open — after the contract, the customer has not signed acceptance yet (M9.1, M9.2).

Why: after the contract the work is delivery, acceptance and collection (M2.1
step 6). Acceptance (验收) releases most of the payment: agree the acceptance
criteria in writing with the people who check them (the technical gatekeeper,
the user department), walk through the open items every week and get the
signature. Collect on time only after a clean acceptance (M9.1); "没有成功的维修
服务，也就没有成功的销售" (M9.2).
A disputed acceptance is DC909's case (sharper, blocking). When the deal is
stalled after the contract, DC105 already sends the rep to find what holds up
acceptance and payment: this rule yields to it.
Acceptance counts as signed when recorded so or when a milestone that means it
(`signs_acceptance` in the stage model) is reached.
Clears when: the customer signs acceptance (implementation.acceptance signed, or the milestone `accepted`).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.accepted != "yes") & (m.acceptance != "disputed"))


RULE = FindingRule(
    code="DC906",
    symbol="acceptance-open",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M9.1",
    phases=frozenset({Phase.AFTER_CONTRACT}),
    topics=frozenset({Topic.DELIVERY, Topic.PAYMENT}),
    clears_fields=("implementation.acceptance", "milestones"),
    summary="After the contract, the customer has not signed acceptance.",
    rationale="Acceptance releases the payment: agree the criteria in writing, clear open items weekly, get the signature.",
    when=_when,
    then=lambda match: Emit(
        params={
            "acceptance": match["deal"]["acceptance"],
            "criteria_agreed": match["deal"]["acceptance_criteria_agreed"],
        }
    ),
)
