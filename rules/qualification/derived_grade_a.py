"""Derivations `grade` (variants a-d): the ABCD grade by days to the expected close date (M6.4).

A: within grade_a_days (6 months); B: within grade_b_days (12); C: within
grade_c_days (18); D: beyond. A close date already passed gets no grade (DC609).
This module defines the A variant; derived_grade_b, _c and _d the others.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation, Emit
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.has_close_date == True) & (m.days_to_close >= 0)
        & (m.days_to_close <= thresholds.grade_a_days)
    )


RULE = Derivation(
    name="grade",
    variant="a",
    section="M6.4",
    summary="Grade A: expected to close within grade_a_days.",
    when=_when,
    then=lambda match: Emit(subject="deal", params={"letter": "A", "rank": 0}),
)
