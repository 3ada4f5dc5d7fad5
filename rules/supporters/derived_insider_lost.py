"""Derivation `insider_lost`: a contact marked insider who is no longer active on the project (M4.7)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.contact << is_a("contact") & (m.marked.insider == True) & (m.active == False))  # noqa: E712


RULE = Derivation(
    name="insider_lost",
    section="M4.7",
    summary="A contact marked insider who has been reassigned or has left the project.",
    when=_when,
    then=about("contact"),
)
