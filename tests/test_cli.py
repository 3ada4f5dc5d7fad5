"""The command line: every exit code in the README table, every command, every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dealcoach.cli import EXIT_CODES, cli
from dealcoach.engine.coach import Coach
from dealcoach.rules import catalog

from helpers import EXAMPLE_EN, EXAMPLES, ROOT, base_deal

ZH_EXAMPLE = str(ROOT / "examples" / "example-deal.zh.yaml")


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)

    return invoke


def write_deal(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "deal.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def ready_to_advance() -> dict:
    """A development-stage deal whose customer is approving the project and every milestone is met."""
    deal = base_deal()
    deal["buying_step"] = "supplier_screening"
    deal["milestones"] = ["need_confirmed", "opportunity_evaluated", "customer_graded"]
    return deal


def test_review_text_zh(run) -> None:
    result = run("review", ZH_EXAMPLE)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[2].startswith("下一个路标：") and lines[4] == "先做这三件" and "1. 【阻断】" in result.output
    assert "DC102" not in result.output and "推理链" not in result.output
    explained = run("review", ZH_EXAMPLE, "--explain")
    assert "依据：DC102 ahead-of-customer · M1.1 · buying_step, stage" in explained.output


def test_review_markdown_en(run) -> None:
    result = run("review", ZH_EXAMPLE, "--lang", "en", "--format", "markdown")
    assert result.exit_code == 0
    assert result.output.startswith("# ") and "## Do these three first" in result.output and "### 1. [BLOCKING] " in result.output
    assert "\nWhy: " in result.output and "add --all to see them" in result.output


def test_review_json_is_parseable_with_text(run) -> None:
    result = run("review", ZH_EXAMPLE, "--format", "json")
    data = json.loads(result.output)
    assert data["language"] == "zh" and data["findings"]
    assert all(f["text"]["title"] and f["evidence"] and f["chain"] for f in data["findings"])


def test_review_from_stdin(run) -> None:
    result = run("review", "-", stdin=Path(ZH_EXAMPLE).read_text(encoding="utf-8"))
    assert result.exit_code == 0 and result.output == run("review", ZH_EXAMPLE).output


def test_gate_allowed_exits_0(run, tmp_path) -> None:
    result = run("gate", write_deal(tmp_path, ready_to_advance()), "--to", "sales_entry", "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "通过" in result.output


def test_gate_blocked_exits_1_and_lists_unmet_milestones(run, tmp_path) -> None:
    deal = ready_to_advance()
    deal["milestones"] = ["need_confirmed"]
    result = run("gate", write_deal(tmp_path, deal), "--to", "销售进入阶段", "--lang", "en")
    assert result.exit_code == 1
    assert "BLOCKED" in result.output
    assert "Ours: opportunity evaluated" in result.output and "Ours: customer graded A/B/C/D" in result.output


def test_gate_blocked_by_a_blocking_risk(run, tmp_path) -> None:
    deal = ready_to_advance()
    deal["contacts"] = [{"id": "a", "name": "刘工", "roles": ["technical_gatekeeper"], "stance": "opposes"}]
    result = run("gate", write_deal(tmp_path, deal), "--to", "sales_entry", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["allowed"] is False and data["unmet_milestones"] == []
    assert [f["code"] for f in data["blocking"]] == ["DC304"]


def test_gate_backwards_is_not_an_advance(run) -> None:
    result = run("gate", ZH_EXAMPLE, "--to", "development", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["advance"] is False


def test_usage_errors_exit_2(run) -> None:
    assert run("review").exit_code == 2
    assert run("review", ZH_EXAMPLE, "--lang", "fr").exit_code == 2
    assert run("gate", ZH_EXAMPLE).exit_code == 2
    result = run("gate", ZH_EXAMPLE, "--to", "closing")
    assert result.exit_code == 2 and "'closing' is not a stage of standard-6" in result.output
    assert run("rules", "DC000").exit_code == 2


def test_bad_input_exits_3_with_field_paths(run, tmp_path) -> None:
    deal = base_deal()
    deal["contacts"] = [{"id": "a", "name": "甲", "power": "很大"}]
    del deal["as_of"]
    result = run("review", write_deal(tmp_path, deal))
    assert result.exit_code == 3
    assert "invalid deal (2 problems)" in result.output
    assert "contacts[0].power: '很大' is not a power circle" in result.output
    assert "as_of: required field is missing" in result.output
    assert "Traceback" not in result.output


def test_bad_input_as_json_for_crms(run, tmp_path) -> None:
    result = run("gate", write_deal(tmp_path, {"id": "x"}), "--to", "proposal", "--format", "json")
    assert result.exit_code == 3
    data = json.loads(result.output)
    assert data["error"] == "invalid_deal" and {"path": "as_of", "message": "required field is missing"} in data["problems"]


def test_missing_file_exits_3(run, tmp_path) -> None:
    result = run("review", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 3 and "cannot read the file" in result.output


def test_broken_playbook_exits_4(run, tmp_path) -> None:
    playbook = tmp_path / "pb"
    (playbook / "templates" / "findings" / "zh").mkdir(parents=True)
    (playbook / "templates" / "findings" / "zh" / "DC102.j2").write_text(
        "{% block title %}{{ no_such_variable }}{% endblock %}{% block why %}x{% endblock %}"
        "{% block action %}x{% endblock %}{% block clears %}x{% endblock %}",
        encoding="utf-8",
    )
    result = run("review", ZH_EXAMPLE, "--playbook", str(playbook))
    assert result.exit_code == 4
    assert "findings/zh/DC102.j2, block title: 'no_such_variable' is undefined" in result.output


def test_internal_error_exits_5(run, monkeypatch) -> None:

    def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(Coach, "review", broken)
    result = run("review", ZH_EXAMPLE)
    assert result.exit_code == 5 and "internal error: KeyError" in result.output and "Traceback" not in result.output


def _exit_success(run, tmp_path, monkeypatch):
    return run("review", str(EXAMPLE_EN), "--lang", "en"), "Plant-wide energy monitoring retrofit"


def _exit_gate_blocked(run, tmp_path, monkeypatch):
    return run("gate", write_deal(tmp_path, base_deal()), "--to", "sales_entry", "--lang", "en"), "BLOCKED"


def _exit_usage(run, tmp_path, monkeypatch):
    return run("gate", ZH_EXAMPLE, "--to", "closing"), "'closing' is not a stage of standard-6"


def _exit_bad_deal(run, tmp_path, monkeypatch):
    return run("review", str(ROOT / "tests" / "bad_inputs" / "as-of-missing.yaml")), "as_of: required field is missing"


def _exit_bad_playbook(run, tmp_path, monkeypatch):
    playbook = tmp_path / "pb"
    playbook.mkdir()
    (playbook / "playbook.yaml").write_text("thresholds: {funnel_min_amount: lots}\n", encoding="utf-8")
    return run("review", ZH_EXAMPLE, "--playbook", str(playbook)), "invalid Thresholds: funnel_min_amount"


def _exit_internal_error(run, tmp_path, monkeypatch):

    def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(Coach, "review", broken)
    return run("review", ZH_EXAMPLE), "internal error: KeyError: 'bug'"


def _pipeline_input(tmp_path) -> Path:
    folder = tmp_path / "deals"
    folder.mkdir()
    (folder / "a-good.yaml").write_bytes(EXAMPLE_EN.read_bytes())
    (folder / "b-bad.yaml").write_bytes((ROOT / "tests" / "bad_inputs" / "as-of-missing.yaml").read_bytes())
    return folder


def _exit_pipeline_bad_deal(run, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    result = run("pipeline", str(_pipeline_input(tmp_path)), "-o", str(out), "--jobs", "1", "-q", "--lang", "en")
    assert [json.loads(line)["ok"] for line in out.read_text(encoding="utf-8").splitlines()] == [True, False]
    return result, "Deals that could not be reviewed (1)"


def _exit_interrupted(run, tmp_path, monkeypatch):
    from dealcoach.engine import pipeline as pipeline_run

    real = pipeline_run.review_all

    def interrupted(*args, **kwargs):
        for record in real(*args, **kwargs):
            yield record
            raise KeyboardInterrupt  # Ctrl-C after the first result

    monkeypatch.setattr(pipeline_run, "review_all", interrupted)
    out = tmp_path / "out.jsonl"
    result = run("pipeline", str(_pipeline_input(tmp_path)), "-o", str(out), "--jobs", "1", "-q")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    return result, "interrupted: 1 complete result written"


def _exit_output_failed(run, tmp_path, monkeypatch):
    result = run("brief", ZH_EXAMPLE, "-a", "zhao", "--date", "2026-11-25", "--purpose", "negotiation", "-o", "/dev/full")
    return result, "cannot write to /dev/full: No space left on device"


def _exit_pipe_closed(run, tmp_path, monkeypatch):
    def reader_gone(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(Coach, "render", reader_gone)
    return run("review", ZH_EXAMPLE), ""


def _exit_delivery_failed(run, tmp_path, monkeypatch):
    from chat_server import WECOM_KEY, Robots, robots_server, webhooks

    monkeypatch.delenv("DEALCOACH_CHANNELS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with robots_server(Robots()) as base:
        monkeypatch.setenv("DEALCOACH_WECOM_WEBHOOK", webhooks(base)["wecom"].replace(WECOM_KEY, "removed-robot"))
        result = run("review", ZH_EXAMPLE, "--send", "wecom")
    assert "先做这三件" in result.output  # the review itself was written
    return result, "企业微信 answered 93000: invalid webhook url"


def _exit_decision_log(run, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the log's directory would go")
    result = run("review", ZH_EXAMPLE, "--store", str(blocked / "decisions.sqlite3"))
    return result, f"cannot create the decision log's directory {blocked}"


EXIT_SCENARIOS = {
    0: _exit_success,
    1: _exit_gate_blocked,
    2: _exit_usage,
    3: _exit_bad_deal,
    4: _exit_bad_playbook,
    5: _exit_internal_error,
    6: _exit_pipeline_bad_deal,
    7: _exit_output_failed,
    8: _exit_delivery_failed,
    9: _exit_decision_log,
    130: _exit_interrupted,
    141: _exit_pipe_closed,
}


@pytest.mark.parametrize("code", sorted(EXIT_CODES))
def test_every_documented_exit_code_is_produced_by_a_real_invocation(run, tmp_path, monkeypatch, code: int) -> None:
    """Each code in cli.EXIT_CODES comes out of an actual CLI run, for the documented reason."""
    assert code in EXIT_SCENARIOS, f"exit code {code} is documented but no test invocation produces it"
    result, expected = EXIT_SCENARIOS[code](run, tmp_path, monkeypatch)
    assert result.exit_code == code, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_every_exit_code_scenario_is_documented_in_cli_and_readme() -> None:
    assert set(EXIT_SCENARIOS) == set(EXIT_CODES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"| {code} |" in readme for code in EXIT_CODES)


def test_rules_list_and_explain(run) -> None:
    listing = run("rules")
    assert listing.exit_code == 0 and len(listing.output.splitlines()) == len(catalog().findings)
    explained = run("rules", "sponsors-but-blind")
    assert "DC406 sponsors-but-blind (risk, block, M4.3)" in explained.output and "Clears when" in explained.output
    data = json.loads(run("rules", "--format", "json").output)
    assert {"code", "symbol", "kind", "severity", "section", "doc"} <= set(data[0])


def test_schema_is_json_schema(run) -> None:
    schema = json.loads(run("schema").output)
    assert schema["title"] == "Deal" and "contacts" in schema["properties"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_init_writes_a_deal_that_reviews(run, tmp_path, lang: str) -> None:
    target = tmp_path / "mine.yaml"
    assert run("init", str(target), "--lang", lang).exit_code == 0
    assert run("review", str(target)).exit_code == 0
    assert run("init", str(target)).exit_code == 2
    assert run("init", str(target), "--force").exit_code == 0


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(run, command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output
    assert f"`dealcoach {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_bundled_examples_cover_both_stage_models_and_languages() -> None:
    import dealcoach

    reports = [dealcoach.review(str(path)) for path in EXAMPLES]
    assert {"example-deal.zh.yaml", "example-deal.en.yaml"} <= {p.name for p in EXAMPLES}
    assert len(EXAMPLES) >= 6
    assert {r.stage_model for r in reports} == {"standard-6", "lead-to-contract-5"}
    assert len({r.stage.id for r in reports}) >= 5


def test_as_of_overrides_the_file_date(run) -> None:
    later = json.loads(run("review", ZH_EXAMPLE, "--format", "json", "--as-of", "2027-01-20").output)
    assert later["as_of"] == "2027-01-20" and later["days_in_stage"] == 97
    assert run("review", ZH_EXAMPLE, "--as-of", "2026-10-01").exit_code == 3  # before stage_entered
    assert run("review", ZH_EXAMPLE, "--as-of", "yesterday").exit_code == 2
