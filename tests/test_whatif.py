"""What-if: a proposed change to a deal, and the findings it clears and adds."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

import dealcoach
from dealcoach.cli import cli
from dealcoach.engine.whatif import merge_patch

from helpers import EXAMPLE_ZH, read_yaml

ZH = EXAMPLE_ZH


def test_merge_patch_semantics() -> None:
    document = {
        "name": "a",
        "budget": {"amount": 1, "evidence": "none"},
        "milestones": ["x", "y"],
        "contacts": [{"id": "c1", "name": "甲", "stance": "neutral"}, {"id": "c2", "name": "乙"}],
    }
    patched = merge_patch(
        document,
        {
            "budget": {"evidence": "customer_document", "amount": None},
            "milestones": ["z"],
            "contacts": [{"id": "c1", "stance": "supports"}, {"id": "c2", "_delete": True}, {"id": "c3", "name": "丙"}],
        },
    )
    assert patched["budget"] == {"evidence": "customer_document"}
    assert patched["milestones"] == ["z"]
    assert patched["contacts"] == [{"id": "c1", "name": "甲", "stance": "supports"}, {"id": "c3", "name": "丙"}]
    assert document["contacts"][0]["stance"] == "neutral", "the original is not modified"


def test_verifying_the_coach_condition_clears_and_shows_what_remains() -> None:
    result = dealcoach.what_if(str(ZH), {"contacts": [{"id": "wang", "coach_conditions": {"wants_us_to_win": True}}]})
    cleared = {f.code for f in result.cleared}
    assert cleared == {"DC407"}  # DC410 (develop him into a coach) was not shown: it yielded to DC407 about him
    assert result.appeared == []
    assert len(result.remaining) == len(result.before.findings) - len(result.cleared)


def test_a_change_can_make_things_worse() -> None:
    result = dealcoach.what_if(str(ZH), {"contacts": [{"id": "zhao", "active": False}]})
    assert {f.code for f in result.cleared} >= {"DC402"}
    assert {f.code for f in result.appeared} >= {"DC403"}
    assert ("DC406", "DC403") in {(s.code, s.detail) for s in result.after.suppressed}  # blind, but losing the insider says it first


def test_bad_change_is_reported_with_its_path() -> None:
    with pytest.raises(dealcoach.DealInputError) as caught:
        dealcoach.what_if(str(ZH), {"contacts": [{"id": "wang", "stance": "ecstatic"}]})
    assert caught.value.source == "deal after the what-if change"
    assert caught.value.problems[0].path.endswith(".stance")
    with pytest.raises(dealcoach.DealInputError, match="no contact with id 'nobody' to delete"):
        dealcoach.what_if(str(ZH), {"contacts": [{"id": "nobody", "_delete": True}]})


def test_cli_what_if(tmp_path) -> None:
    change = tmp_path / "change.yaml"
    change.write_text(yaml.safe_dump({"objective": {"confirmed_by_customer": True}}), encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(cli, ["review", str(ZH), "--what-if", str(change)])
    assert text.exit_code == 0, text.output
    assert "假设推演" in text.output and "会消失的问题（1 条）\n- 销售目标客户还没确认" in text.output and "DC502" not in text.output
    data = json.loads(runner.invoke(cli, ["review", str(ZH), "--what-if", str(change), "--format", "json", "--lang", "en"]).output)
    assert [f["code"] for f in data["cleared"]] == ["DC502"] and data["cleared"][0]["text"]["title"]
    change.write_text("- not a mapping\n", encoding="utf-8")
    assert runner.invoke(cli, ["review", str(ZH), "--what-if", str(change)]).exit_code == 3


def test_what_if_from_a_validated_deal() -> None:
    deal = dealcoach.load_deal(read_yaml(ZH))
    result = dealcoach.what_if(deal, {"objective": {"shaped_by": "competitor"}})
    assert [f.code for f in result.appeared] == ["DC503"]
