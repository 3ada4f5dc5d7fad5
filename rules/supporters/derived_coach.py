"""Derivation `coach`: a contact who meets all three coach conditions and none of the M4.5 exclusions (M4.4).

A coach (教练) (1) trusts our capability to deliver, (2) is trusted by the
customer organisation, (3) wants us to win. Two of three is not a coach
(M4.4); last deal's coach, a friend, a public-information provider or an
"internal seller" with his own agenda is not one either (M4.5).
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.coach == True)  # noqa: E712
        & (m.trusts_our_capability == "yes") & (m.trusted_by_organisation == "yes") & (m.wants_us_to_win == "yes")
        & (m.has_caveat == False)  # noqa: E712
    )


RULE = Derivation(
    name="coach",
    section="M4.4",
    summary="An active contact marked coach who meets all three conditions and no exclusion.",
    when=_when,
    then=about("contact"),
)
