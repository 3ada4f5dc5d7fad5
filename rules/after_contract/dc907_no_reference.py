"""DC907 no-reference — the project is accepted but the customer has not agreed to be a reference (M9.2, M7.4).

Why: third-party proof builds trust with the next customers: reference sites,
factory visits, a customer's word (M7.4); 60% of new customers come from
existing customers' referrals (M9.2). A project the customer has accepted is
the moment to ask the decision maker or the user department to host a visit
or give a quote.
"Accepted" is read without a join: the rule fires when acceptance is signed, or
not recorded while the customer is at the installation step (a model without
that step, like the five-stage one, must record acceptance), and yields to DC906 (acceptance still open: not reached the
`accepted` milestone) and to DC105 (stalled after the contract: acceptance or
payment held up), so it is shown only once acceptance is behind the deal. It
yields to DC108 too: while nobody has met the decision level, meet it first
(DC108 also brings it to see the results).
Clears when: the customer agrees to be a reference (implementation.reference_agreed).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.reference_agreed != "yes")
        & ((m.accepted == "yes") | ((m.accepted == "unknown") & (m.step_tag.after_contract == True)))  # noqa: E712
    )


RULE = FindingRule(
    code="DC907",
    symbol="no-reference",
    kind=Kind.ACTION,
    severity=Severity.INFO,
    section="M9.2",
    phases=frozenset({Phase.AFTER_CONTRACT}),
    yields_to=("DC906", "DC909", "DC105", "DC108"),
    topics=frozenset({Topic.RELATIONSHIP}),
    clears_fields=("implementation.reference_agreed",),
    summary="The project is accepted but not yet a reference for new customers.",
    rationale="A satisfied customer's site and word win the next customers; ask once the project is accepted.",
    when=_when,
)
