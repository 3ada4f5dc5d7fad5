"""Derivation `grade` variant b: expected close within grade_b_days, beyond grade_a_days (M6.4)."""

from durable.lang import c, m, when_all

from ...engine.rulebook import Derivation, Emit
from ..conditions import is_a


def _when(thresholds):
    return when_all(
        c.deal << is_a("deal") & (m.has_close_date == True) & (m.days_to_close > thresholds.grade_a_days)
        & (m.days_to_close <= thresholds.grade_b_days)
    )


RULE = Derivation(
    name="grade",
    variant="b",
    section="M6.4",
    summary="Grade B: expected to close within grade_b_days.",
    when=_when,
    then=lambda match: Emit(subject="deal", params={"letter": "B", "rank": 1}),
)
