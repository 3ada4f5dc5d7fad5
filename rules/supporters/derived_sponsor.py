"""Derivation `sponsor`: a contact who meets both conditions of a sponsor (M4).

A sponsor (赞助者) (1) has power or influence — political or core circle, or
influence through expertise or charisma as an opinion leader — and (2)
supports us and wants us to win. Unknown power (rank -1) or stance does not
qualify unless he is an opinion leader: DC405 asks the rep to find out.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation, Emit
from ..conditions import active_contact, person_with_conditions


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.sponsor == True) & (m.stance == "supports")  # noqa: E712
        & ((m.power_rank >= 2) | (m.role.opinion_leader == True))  # noqa: E712
    )


RULE = Derivation(
    name="sponsor",
    section="M4",
    summary="An active contact marked sponsor who has power or influence and supports us.",
    when=_when,
    then=lambda match: Emit(subject=match["contact"]["cid"], params=person_with_conditions(match["contact"])),
)
