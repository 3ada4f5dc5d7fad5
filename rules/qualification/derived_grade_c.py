"""Derivation `grade` variant c: expected close within grade_c_days, beyond grade_b_days (M6.4)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation, Emit
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.has_close_date == True) & (m.days_to_close > thresholds.grade_b_days)
        & (m.days_to_close <= thresholds.grade_c_days)
    )


RULE = Derivation(
    name="grade",
    variant="c",
    section="M6.4",
    summary="Grade C: expected to close within grade_c_days.",
    when=_when,
    then=lambda match: Emit(subject="deal", params={"letter": "C", "rank": 2}),
)
