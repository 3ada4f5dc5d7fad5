"""Derivation `technical_gatekeeper`: a contact with the technical-gatekeeper role (M3.1)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, is_a


def _when(thresholds):
    return when_all(c.contact << is_a("contact") & (m.role.technical_gatekeeper == True))  # noqa: E712


RULE = Derivation(
    name="technical_gatekeeper",
    section="M3.1",
    summary="A contact identified as technical gatekeeper.",
    when=_when,
    then=about("contact"),
)
