"""DC111 influence-specs-before-tender — the specs are being set, the tender is not out, they do not yet favour us (M2.1).

Why: the third buying step is setting the purchase specifications; the seller's
work there is to influence the customer's purchase criteria (M2.1). The
boundary between system design and evaluation is the issue of the tender
document: once it is out, the specifications are fixed and only
clarifications remain. Before it, technical exchanges with the technical
gatekeeper and the users, and reference visits, get our strengths written in
as requirements (M7.4: third-party proof).
Fires only while the customer is at that step (not when we are ahead of it, not once its step fixes the specs).
It yields to DC513 (a rival shaped these specifications: the same work, aimed at its clauses)
and DC503 (a rival shaped the objective itself: reframe what to buy first).
Clears when: the specifications the customer sets favour our strengths (milestone specs_influenced).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.step_tag.specs_fixed == False) & (m.tender_published != "yes"),  # noqa: E712
        c.milestone << is_a("milestone") & (m.mid == "specs_influenced") & (m.reached == False)  # noqa: E712
        & (m.stage_index <= c.deal.step_index),
    )


RULE = FindingRule(
    code="DC111",
    symbol="influence-specs-before-tender",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M2.1",
    phases=frozenset({Phase.ENTRY, Phase.PROPOSAL}),
    yields_to=("DC513", "DC503"),
    topics=frozenset({Topic.TENDER, Topic.COMPETITION}),
    clears_fields=("milestones", "tender.published", "buying_step"),
    summary="The customer is setting its specifications: get our strengths written in before the tender is issued.",
    rationale="Once the tender document is out the specifications are fixed; only clarifications remain.",
    when=_when,
)
