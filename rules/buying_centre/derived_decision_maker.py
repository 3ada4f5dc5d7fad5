"""Derivation `decision_maker`: a contact with the decision-maker role, active or not (M3.1)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.contact << is_a("contact") & (m.role.decision_maker == True))  # noqa: E712


RULE = Derivation(
    name="decision_maker",
    section="M3.1",
    summary="A contact identified as decision maker.",
    when=_when,
    then=about("contact"),
)
