"""Property-based: generated valid and near-valid deals never produce a traceback, give the same findings
whatever the order of their contacts, and every finding cites facts that exist in the input."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dealcoach
from dealcoach.engine.errors import DealInputError
from dealcoach.engine.vocabulary import ALIASES, BrainQuadrant, CoachCaveat, PowerCircle, Role, Stance, SupporterKind, parse_term

from helpers import base_deal

STAGES = ["development", "sales_entry", "proposal", "bidding", "negotiation", "implementation", "提案阶段", "Bidding"]
STEPS = ["need_and_approval", "supplier_screening", "set_specifications", "tender_evaluation", "purchase_commitment", "installation"]
MILESTONES = ["need_confirmed", "opportunity_evaluated", "customer_graded", "shortlisted", "insider_developed", "selected"]
DATES = st.dates(min_value=__import__("datetime").date(2025, 1, 1), max_value=__import__("datetime").date(2026, 11, 20))


def spelling(enum_cls):
    """Any accepted spelling of a vocabulary value: canonical, or an English/Chinese alias."""
    values = [m.value for m in enum_cls] + [k for k in ALIASES.get(enum_cls, {})]
    return st.sampled_from(values)


def spellings(enum_cls, max_size: int):
    """A list of spellings naming different values: a list may not name one value twice, even under two spellings."""
    return st.lists(spelling(enum_cls), max_size=max_size, unique_by=lambda s: parse_term(enum_cls, s))


tri = st.one_of(st.none(), st.booleans())


@st.composite
def contacts(draw, index: int) -> dict:
    record = {
        "id": f"c{index}",
        "name": draw(st.text(min_size=1, max_size=8).filter(lambda s: s.strip())),
        "roles": draw(spellings(Role, max_size=2)),
        "power": draw(spelling(PowerCircle)),
        "stance": draw(spelling(Stance)),
        "supporter": draw(spellings(SupporterKind, max_size=2)),
        "coach_conditions": {
            k: v for k, v in {
                "trusts_our_capability": draw(tri), "trusted_by_organisation": draw(tri), "wants_us_to_win": draw(tri)
            }.items() if v is not None
        },
        "caveats": draw(spellings(CoachCaveat, max_size=1)),
        "active": draw(st.booleans()),
    }
    for key in ("shares_information", "avoids_conflict"):
        if (value := draw(tri)) is not None:
            record[key] = value
    if draw(st.booleans()):
        record["last_contact"] = draw(DATES).isoformat()
    if draw(st.booleans()):
        record["brain"] = draw(spelling(BrainQuadrant))
    return record


@st.composite
def deals(draw) -> dict:
    deal = base_deal()
    people = [draw(contacts(i)) for i in range(draw(st.integers(0, 8)))]
    deal.update(
        stage=draw(st.sampled_from(STAGES)),
        buying_step=draw(st.sampled_from(STEPS)),
        stage_entered=draw(DATES).isoformat(),
        amount=draw(st.floats(min_value=0, max_value=1e9, allow_nan=False)),
        contacts=people,
        milestones=draw(st.lists(st.sampled_from(MILESTONES), max_size=4, unique=True)),
    )
    if draw(st.booleans()):
        deal["expected_close"] = draw(st.dates()).isoformat()
    if people and draw(st.booleans()):
        members = draw(st.lists(st.sampled_from([p["id"] for p in people]), min_size=1, unique=True))
        deal["decision"] = {
            "mode": "collective", "rule": draw(st.sampled_from(["unanimity", "majority", "dominant"])),
            "committee": members, "committee_size": len(members) + draw(st.integers(0, 3)),
        }
    return deal


def _findings(deal: dict) -> list[tuple]:
    return [(f.code, f.subject) for f in dealcoach.review(deal).findings]


def _exists(document: dict, path: str) -> bool:
    """An evidence path names a place in the input: a top-level field, or an element/field that is present."""
    if path in ("contacts", "to") or path.split(".")[0] in dealcoach.Deal.model_fields and "[" not in path:
        return True
    node = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path)[:2]:
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return False
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return isinstance(node, dict)  # an optional field left at its default is still the cited field
    return True


@pytest.mark.exhaustive
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals(), st.randoms(use_true_random=False))
def test_valid_deals(deal: dict, rng) -> None:
    # deals() builds only valid deals, so every one must be reviewed: a rejection is a failure, not a skipped example.
    try:
        report = dealcoach.review(deal)
    except DealInputError as error:
        raise AssertionError(f"a valid deal was rejected: {error}") from None
    for finding in report.findings:
        for path in finding.evidence:
            assert _exists(deal, path), (finding.code, path)
    shuffled = dict(deal, contacts=list(deal["contacts"]))
    rng.shuffle(shuffled["contacts"])
    assert _findings(shuffled) == [(f.code, f.subject) for f in report.findings]


MUTATIONS = st.sampled_from([
    ("amount", "lots"), ("amount", -1), ("as_of", "2026-13-01"), ("stage", "closing"), ("contacts", "陈总"),
    ("contacts", [{"id": "a"}]), ("decision", {"mode": "collective", "committee": ["ghost"]}), ("milestones", [7]),
    ("expected_close", {"y": 2027}), ("customer", None), ("unknown_field", 1), ("buying_step", ""),
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals(), MUTATIONS)
def test_near_valid_deals_fail_cleanly(deal: dict, mutation) -> None:
    """Every mutation makes the deal invalid (an unknown field included: the model forbids extra fields), so each is
    rejected with a DealInputError whose problems name the mutated field."""
    key, value = mutation
    deal[key] = value
    with pytest.raises(DealInputError) as caught:
        dealcoach.review(deal)
    problems = caught.value.problems
    assert problems and all(p.message for p in problems)
    assert any(p.path == key or p.path.startswith((f"{key}.", f"{key}[")) for p in problems), (key, [str(p) for p in problems])
