"""Derivation `committee_opponent`: a committee member who opposes us (M3.5)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about


def _when(thresholds):
    return when_all(
        c.member << (m.t == "committee_member"),
        c.contact << (m.t == "contact") & (m.cid == c.member.about) & (m.stance == "opposes"),
    )


RULE = Derivation(
    name="committee_opponent",
    section="M3.5",
    summary="A committee member whose stance is opposes.",
    when=_when,
    then=about("contact"),
)
