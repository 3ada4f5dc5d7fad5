"""Derivation `insider`: a contact who meets both conditions of an insider (M4).

An insider (内线) (1) at least sees things happen (watcher circle or above) and
(2) is willing to share what he sees with us. Only active contacts count.
Unknown power (rank -1) or unknown willingness does not qualify: DC404 asks
the rep to find out.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation
from ..conditions import about, active_contact


def _when(thresholds):
    return when_all(
        c.contact << active_contact() & (m.marked.insider == True) & (m.power_rank >= 1)  # noqa: E712
        & (m.shares_information == "yes")
    )


RULE = Derivation(
    name="insider",
    section="M4",
    summary="An active contact marked insider who sees things happen and shares information.",
    when=_when,
    then=about("contact"),
)
