"""Derivation `backer`: an active contact who supports us, whatever his power (M7.2)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(c.contact << active_contact() & (m.stance == "supports"))


RULE = Derivation(
    name="backer",
    section="M7.2",
    summary="An active contact whose stance is supports.",
    when=_when,
    then=about("contact"),
)
