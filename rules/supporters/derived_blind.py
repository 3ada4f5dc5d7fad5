"""Derivation `blind`: we have neither an insider nor a coach, so nobody tells us what happens inside (M4.3, M4.7)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation, Emit
from ..conditions import ledger


def _when(thresholds):
    return when_all(c.ledger << ledger() & (m.insider == 0) & (m.coach == 0))


RULE = Derivation(
    name="blind",
    section="M4.3",
    summary="No qualified insider and no qualified coach on the project.",
    when=_when,
    then=lambda match: Emit(subject="deal"),
)
