"""Derivation `decision_maker_met`: a decision maker we have met within key_person_stale_days (M2.1, M4.8)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(
        c.contact << is_a("contact") & (m.role.decision_maker == True) & (m.never_contacted == False)
        & (m.days_since_contact <= thresholds.key_person_stale_days)
    )


RULE = Derivation(
    name="decision_maker_met",
    section="M2.1",
    summary="A decision maker met recently.",
    when=_when,
    then=about("contact"),
)
