"""DC904 payment-terms-open — in negotiation, the contract's payment terms are not all settled (M9.1).

Why: clear payment terms in the contract (M9.1) decide whether a won deal turns
into money: the terms and the deposit, the acceptance criteria each payment
rests on (unclear criteria become the customer's reason to delay), and who
signs the payments. List what is open and get it written into the contract
before signing, with the customer's purchaser.
No `asks`: a negotiation brief already asks the purchaser how payment goes
(purpose.negotiation.ask.purchaser); a second question would repeat it.
Yields to DC608 (credit risk: the same deposit and milestone-payment advice, with
credit as the reason) and DC308 (procurement organiser not won: in negotiation
it settles contract terms, payment milestones and acceptance with that person).
Clears when: terms, deposit, acceptance criteria and the payment signer are all settled.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Emit, FindingRule, Kind, Phase, Severity, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal")
        & (
            (m.payment_agreed != "yes")
            | (m.deposit_percent < 0)
            | (m.acceptance_criteria_agreed != "yes")
            | (m.payment_signer_known != "yes")
        )
    )


def _then(match):
    deal = match["deal"]
    opened = {
        "terms": deal["payment_agreed"] != "yes",
        "deposit": deal["deposit_percent"] < 0,
        "acceptance": deal["acceptance_criteria_agreed"] != "yes",
        "signer": deal["payment_signer_known"] != "yes",
    }
    return Emit(params={"open": [name for name, is_open in opened.items() if is_open]})


RULE = FindingRule(
    code="DC904",
    symbol="payment-terms-open",
    kind=Kind.ACTION,
    severity=Severity.WARN,
    section="M9.1",
    phases=frozenset({Phase.NEGOTIATION}),
    yields_to=("DC608", "DC308"),
    topics=frozenset({Topic.PAYMENT}),
    clears_fields=(
        "payment_terms.agreed", "payment_terms.deposit_percent", "payment_terms.acceptance_criteria_agreed",
        "payment_terms.payment_signer_known",
    ),
    summary="Payment terms, deposit, acceptance criteria or the payment signer are not settled before signing.",
    rationale="Payment terms written into the contract decide whether a won deal turns into money.",
    when=_when,
    then=_then,
)
