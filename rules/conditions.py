"""Small building blocks for rule conditions and actions.

Every helper returns *fresh* durable-rules DSL objects: `<<` mutates them, so a
fragment must never be shared between two rules.
"""

from __future__ import annotations

from collections.abc import Callable

from durable.lang import m

from ..engine.rulebook import Emit, Match

COACH_CONDITIONS = ("trusts_our_capability", "trusted_by_organisation", "wants_us_to_win")


def is_a(fact_type: str):
    """The first test of every condition: the fact type."""
    return m.t == fact_type


def active_contact():
    """A contact still active on the project."""
    return (m.t == "contact") & (m.active == True)  # noqa: E712 - DSL comparison, not a Python truth test


def not_covered(thresholds):
    """A contact we have never met, do not know whether we met, or have not met for key_person_stale_days (M4.8)."""
    return (
        (m.met == "no") | (m.met == "unknown")
        | ((m.has_last_contact == True) & (m.days_since_contact > thresholds.key_person_stale_days))  # noqa: E712
    )


def ledger():
    """The pass-2 fact with explicit counts of every pass-1 derivation."""
    return m.t == "ledger"


def person(fact: dict) -> dict:
    """Template parameters naming a contact (from a contact fact or a fact derived about one)."""
    return {"name": fact["name"], "title": fact["title"]}


def about(alias: str, **extra: Callable[[Match], object]) -> Callable[[Match], Emit]:
    """An action whose subject is the contact behind `alias`, with its name and title as parameters."""

    def then(match: Match) -> Emit:
        fact = match[alias]
        params = person(fact)
        params.update({key: compute(match) for key, compute in extra.items()})
        return Emit(subject=fact.get("cid") or fact["about"], params=params)

    return then


def unmet_coach_conditions(fact: dict) -> dict[str, list[str]]:
    """The coach conditions a contact fails ("no") and those nobody has checked ("unknown")."""
    return {
        "failed": [name for name in COACH_CONDITIONS if fact[name] == "no"],
        "unknown": [name for name in COACH_CONDITIONS if fact[name] == "unknown"],
    }


def person_with_conditions(fact: dict) -> dict:
    """Derived-fact parameters: who, and the state of the three coach conditions."""
    return {**person(fact), **{name: fact[name] for name in COACH_CONDITIONS}}


def about_milestone(match: Match) -> Emit:
    """An action whose subject is the matched `milestone`, with its id and stage index as parameters."""
    milestone = match["milestone"]
    return Emit(subject=milestone["mid"], params={"milestone": milestone["mid"], "stage_index": milestone["stage_index"]})
