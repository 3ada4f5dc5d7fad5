"""Derivation `committee_member`: a contact we know sits on the decision committee (M3.5)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.contact << is_a("contact") & (m.on_committee == True))  # noqa: E712


RULE = Derivation(
    name="committee_member",
    section="M3.5",
    summary="A contact named in decision.committee.",
    when=_when,
    then=about("contact"),
)
