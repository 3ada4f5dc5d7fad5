"""DC114 public-tender-compliance — a public tender is under way: what may and may not be done (M2.1).

Why: at the tender and evaluation step (M2.1) a public tender (公开招标) runs by
law: questions go through the official written clarification only; the
evaluation experts' names stay confidential until the award — never seek them
or contact them; no side deals with the customer or other bidders. Contact
with the procurement organiser continues, on the process only. Breaking these
rules voids the bid.
Guidance, not a risk: shown while the deal is in bidding.
Clears when: informational; it applies until the award is announced.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.tender_public == "yes"))


RULE = FindingRule(
    code="DC114",
    symbol="public-tender-compliance",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M2.1",
    phases=frozenset({Phase.BIDDING}),
    topics=frozenset({Topic.TENDER}),
    clears_fields=("tender.public",),
    summary="A public tender: only the official clarification, no contact with the evaluation experts, no side deals.",
    rationale="In a public tender a breach of procedure voids the bid and can bar the company from bidding.",
    when=_when,
)
