"""Changes since the last review: new and cleared risks, done actions, stage and grade movement."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fastapi.testclient import TestClient

import dealcoach
from dealcoach.cli import cli
from dealcoach.service.app import Settings, create_app

from helpers import EXAMPLE_ZH, read_yaml


def week_later() -> dict:
    deal = read_yaml(EXAMPLE_ZH)
    deal["as_of"] = "2026-11-27"
    deal["buying_step"] = "set_specifications"
    deal["milestones"] = [*deal["milestones"], "customer_graded", "insider_developed"]
    for contact in deal["contacts"]:
        if contact["id"] == "wang":
            contact["coach_conditions"]["wants_us_to_win"] = True
        if contact["id"] == "liu":
            contact["stance"] = "opposes"
    return deal


def test_changes_between_two_versions() -> None:
    result = dealcoach.changes(read_yaml(EXAMPLE_ZH), week_later())
    assert result.days_between == 7 and result.stage_moved == 0 and result.buying_step_moved == 1
    # DC104 and DC410 were not shown last week (they yielded to DC102 and, for 王建国, to DC407)
    assert {f.code for f in result.cleared_risks} == {"DC102", "DC407"}
    assert result.done_actions == [] and {s.code for s in result.previous.suppressed} >= {"DC104", "DC410"}
    assert [(f.code, f.subject) for f in result.new_risks] == [("DC304", "liu")]
    assert result.new_risks[0].severity == "block"


def test_cli_since() -> None:
    runner = CliRunner()
    with runner.isolated_filesystem():
        with open("now.json", "w", encoding="utf-8") as handle:
            json.dump(week_later(), handle, ensure_ascii=False)
        text = runner.invoke(cli, ["review", "now.json", "--since", str(EXAMPLE_ZH)])
        assert text.exit_code == 0, text.output
        assert "与上次评估（2026-11-20，7 天前）相比" in text.output
        assert "客户采购阶段：供应商初步调查、筛选 → 制定采购指标（前进 1 步）" in text.output
        assert "新出现的风险（1 条）\n- 【阻断】" in text.output and "DC304" not in text.output
        data = json.loads(runner.invoke(cli, ["review", "now.json", "--since", str(EXAMPLE_ZH), "--format", "json", "--lang", "en"]).output)
        assert data["new_risks"][0]["text"]["title"] and data["buying_step_moved"] == 1
        both = runner.invoke(cli, ["review", "now.json", "--since", str(EXAMPLE_ZH), "--what-if", "now.json"])
        assert both.exit_code == 2


def test_http_changes() -> None:
    client = TestClient(create_app(Settings()))
    answer = client.post("/v1/review/changes?lang=en", json={"previous": read_yaml(EXAMPLE_ZH), "current": week_later()})
    assert answer.status_code == 200
    body = answer.json()
    assert body["changes"]["new_risks"][0]["code"] == "DC304" and body["changes"]["new_risks"][0]["text"]["title"]


def test_a_warning_gone_only_because_the_stage_moved_is_not_cleared_nor_done() -> None:
    """Moving a deal to the next stage must not make its unfinished business look done (a rule that no longer looks)."""
    import copy

    from helpers import EXAMPLE_ZH, read_yaml

    from dealcoach.engine import api

    coach = api.coach()
    before = read_yaml(EXAMPLE_ZH)
    after = copy.deepcopy(before)
    after.update(as_of="2026-12-04", stage="投标阶段", stage_entered="2026-12-01")
    changes = coach.changes(before, after)
    left = {f.code for f in changes.left_behind}
    assert left and not left & {f.code for f in changes.cleared_risks + changes.done_actions}
    assert all(not coach.looks_at(code, changes.current.phase, changes.current.stage.id) for code in left)
    text = coach.render(changes, lang="zh")
    assert "阶段变了才不再提示，事情未必办了（3 条）" in text and "已完成的行动（0 条）" in text
    same_stage = copy.deepcopy(before)
    same_stage["as_of"] = "2026-12-04"
    assert coach.changes(before, same_stage).left_behind == []
    assert "阶段变了" not in coach.render(coach.changes(before, same_stage), lang="zh")
