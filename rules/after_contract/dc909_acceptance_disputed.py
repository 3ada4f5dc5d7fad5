"""DC909 acceptance-disputed — the customer disputes acceptance (M9.1, M9.2).

Why: a disputed acceptance holds up the payment that acceptance releases, and
every week it drags on the money is harder to collect (M9.1); "没有成功的维修服务，
也就没有成功的销售" (M9.2). Settle it face to face: our technical lead on site,
each disputed point checked against the contract and the acceptance criteria,
not argued by email. DC906 (acceptance not yet signed) is the calmer case and
does not fire on a dispute.
Clears when: the dispute is settled (implementation.acceptance back to in progress, or signed).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.acceptance == "disputed"))


RULE = FindingRule(
    code="DC909",
    symbol="acceptance-disputed",
    kind=Kind.RISK,
    severity=Severity.BLOCK,
    section="M9.1",
    phases=frozenset({Phase.AFTER_CONTRACT}),
    topics=frozenset({Topic.DELIVERY, Topic.PAYMENT}),
    clears_fields=("implementation.acceptance",),
    summary="The customer disputes acceptance.",
    rationale="A disputed acceptance stops the payment; settle it on site with our technical lead, not by email.",
    when=_when,
    then=lambda match: Emit(params={"criteria_agreed": match["deal"]["acceptance_criteria_agreed"]}),
)
