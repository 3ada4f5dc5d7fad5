"""Derivation `decision_maker_met`: a decision maker we have met within key_person_stale_days (M2.1, M4.8).

Only a recorded date shows a recent meeting: "met at some time" without a date does not count.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(
        c.contact << is_a("contact") & (m.role.decision_maker == True) & (m.has_last_contact == True)  # noqa: E712
        & (m.days_since_contact <= thresholds.key_person_stale_days)
    )


RULE = Derivation(
    name="decision_maker_met",
    section="M2.1",
    summary="A decision maker met recently.",
    when=_when,
    then=about("contact"),
)
