"""Derivation `coach`: a contact marked coach who meets all three coach conditions and no disqualifying M4.5 caveat (M4.4).

A coach (教练) (1) trusts our capability to deliver, (2) is trusted by the
customer organisation, (3) wants us to win. Two of three is not a coach
(M4.4). Of the M4.5 look-alikes, last deal's coach and a friend are not coaches
*because of* that relationship, but one who meets all three conditions for this
deal is (re-qualified); a provider of public information only, or an "internal
seller" with his own agenda, is not, whatever is recorded of the conditions.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.coach == True)  # noqa: E712
        & (m.trusts_our_capability == "yes") & (m.trusted_by_organisation == "yes") & (m.wants_us_to_win == "yes")
        & (m.caveat.public_information_only == False) & (m.caveat.own_agenda == False)  # noqa: E712
    )


RULE = Derivation(
    name="coach",
    section="M4.4",
    summary="An active contact marked coach who meets all three conditions and no exclusion.",
    when=_when,
    then=about("contact"),
)
