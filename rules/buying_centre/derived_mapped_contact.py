"""Derivation `mapped_contact`: an active contact whose buying role or power circle we have recorded (M4.8 steps 2-3)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, active_contact


# Unknown power ranks -1, so only a recorded circle above unaware counts.
def _when(thresholds):
    return when_all(c.contact << active_contact() & ((m.power_rank > 0) | (m.has_role == True)))


RULE = Derivation(
    name="mapped_contact",
    section="M4.8",
    summary="An active contact with a buying role or a power circle above unaware.",
    when=_when,
    then=about("contact"),
)
