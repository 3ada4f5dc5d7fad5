"""The Python API another program calls without the CLI."""

from __future__ import annotations

import json

import pytest

import dealcoach
from dealcoach.engine.api import UnknownStageError

from helpers import EXAMPLE_EN, EXAMPLE_ZH, read_yaml


@pytest.mark.parametrize("form", ["path", "dict", "deal"])
def test_review_accepts_a_path_a_mapping_or_a_deal(form: str) -> None:
    path = EXAMPLE_ZH
    source = {"path": str(path), "dict": read_yaml(path), "deal": dealcoach.load_deal(str(path))}[form]
    report = dealcoach.review(source)
    assert report.deal_id == "SH-2026-031"
    assert [f.code for f in report.findings][:1] == ["DC102"]


def test_findings_carry_code_kind_severity_section_evidence_and_chain() -> None:
    deal = read_yaml(EXAMPLE_EN)
    deal["contacts"] = [c for c in deal["contacts"] if c["id"] != "roth"]  # without the lost insider, DC406 speaks first
    report = dealcoach.review(deal)
    blind = next(f for f in report.findings if f.code == "DC406")
    assert (blind.kind, blind.severity, blind.section, blind.symbol) == ("risk", "block", "M4.3", "sponsors-but-blind")
    assert "contacts[2].supporter" in blind.evidence
    steps = [(s["step"], s["rule"]) for s in blind.chain]
    assert ("counted", "sponsor") in steps and ("derived", "blind") in steps and steps[-1][0] == "fired"


def test_findings_come_in_priority_order_blocking_first_on_this_deal() -> None:
    report = dealcoach.review(str(EXAMPLE_EN))
    shown = [f for f in report.findings if f.card]
    assert [f.rank for f in report.findings] == sorted(f.rank for f in report.findings)
    assert shown[0].severity == "block" and report.cards[0].severity == "block"
    assert max(f.score for f in shown) == shown[0].score


def test_same_input_same_output() -> None:
    first = dealcoach.review(str(EXAMPLE_ZH)).model_dump_json()
    assert all(dealcoach.review(str(EXAMPLE_ZH)).model_dump_json() == first for _ in range(5))


def test_gate_result() -> None:
    result = dealcoach.gate(str(EXAMPLE_ZH), to="bidding")
    assert result.advance and not result.allowed
    # customer_graded and insider_developed are met: the review itself grades the deal and finds an insider
    assert [m.id for m in result.unmet_milestones] == ["specs_influenced", "solution_accepted"]
    assert {(s.subject, s.reason) for s in result.report.suppressed} >= {("customer_graded", "implied"), ("insider_developed", "implied")}
    assert {f.code for f in result.blocking} >= {"DC101", "DC102", "DC103"}
    assert result.from_stage.id == "proposal" and result.to_stage.name["zh"] == "投标阶段"


def test_gate_to_unknown_stage() -> None:
    with pytest.raises(UnknownStageError, match="'closing' is not a stage"):
        dealcoach.gate(str(EXAMPLE_ZH), to="closing")


def test_render_json_round_trips_with_text() -> None:
    data = json.loads(dealcoach.render(dealcoach.review(str(EXAMPLE_EN)), lang="en", fmt="json"))
    assert data["language"] == "en"
    assert all(set(f["text"]) == {"title", "why", "action", "clears", "short", "first", "item"} for f in data["findings"])
    assert all(f["text"]["title"] and f["text"]["first"] and f["text"]["short"] for f in data["findings"])


def test_invalid_deal_problems_are_data(deal: dict) -> None:
    deal["contacts"] = [{"id": "a", "name": "甲", "stance": "love"}]
    with pytest.raises(dealcoach.DealInputError) as caught:
        dealcoach.review(deal)
    assert caught.value.as_dict()["problems"][0]["path"] == "contacts[0].stance"
    assert caught.value.exit_code == 3
