"""What a new user meets first: each rough edge found from outside, with the test that keeps it smooth."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from helpers import ROOT

GENERATE = ROOT / "benchmarks" / "generate.py"


def test_generate_has_a_command_line(tmp_path) -> None:
    shown = subprocess.run([sys.executable, str(GENERATE), "--help"], capture_output=True, text=True, check=True)
    assert "--count" in shown.stdout and "--as-dir" in shown.stdout
    lines = tmp_path / "deals.jsonl"
    subprocess.run([sys.executable, str(GENERATE), "--count", "4", "--seed", "7", "-o", str(lines)], check=True)
    records = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [f"BENCH-{i:07d}" for i in range(4)]
    folder = tmp_path / "deals"
    subprocess.run([sys.executable, str(GENERATE), "--count", "4", "--seed", "7", "--as-dir", "-o", str(folder)], check=True)
    assert sorted(p.name for p in folder.iterdir()) == [f"BENCH-{i:07d}.json" for i in range(4)]
    assert json.loads((folder / "BENCH-0000002.json").read_text(encoding="utf-8")) == records[2]  # same seed, same deals
    refused = subprocess.run([sys.executable, str(GENERATE), "--as-dir"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--as-dir needs --output" in refused.stderr


def test_markdown_keeps_a_plain_ampersand_readable_and_escapes_what_html_would_read() -> None:
    from dealcoach.engine.rendering import escape_markdown

    assert escape_markdown("Need confirmed & funds secured, R&D") == "Need confirmed & funds secured, R&D"
    assert escape_markdown("<b>x</b> &lt; &#60;") == "&lt;b&gt;x&lt;/b&gt; &amp;lt; &amp;#60;"


def test_english_markdown_review_shows_the_ampersand_as_written() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    shown = CliRunner().invoke(cli, ["review", str(ROOT / "examples" / "example-deal.en.yaml"), "--lang", "en", "--format", "markdown"])
    assert shown.exit_code == 0
    assert "Need confirmed & funds secured" in shown.output and "&amp;" not in shown.output


def test_gate_explain_names_the_target_parameter_not_an_english_placeholder() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    shown = CliRunner().invoke(cli, ["gate", str(ROOT / "examples" / "example-deal.zh.yaml"), "--to", "bidding", "--explain"])
    assert shown.exit_code == 1
    assert "(gate target)" not in shown.output and "DC103" in shown.output


def _rollup(deal_count: int, lang: str, tmp_path) -> str:
    deals = tmp_path / f"deals{deal_count}.jsonl"
    subprocess.run([sys.executable, str(GENERATE), "--count", str(deal_count), "-o", str(deals)], check=True)
    command = ["pipeline", str(deals), "--quiet", "--lang", lang, "-o", str(tmp_path / f"out{deal_count}.jsonl")]
    run = subprocess.run(
        [sys.executable, "-c", "from dealcoach.cli import main; main()", *command],
        capture_output=True, text=True, encoding="utf-8",
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_rollup_counts_read_as_english_in_the_singular_and_plural(tmp_path) -> None:
    one = _rollup(1, "en", tmp_path)
    assert one.startswith("Pipeline review as of 20 Nov 2026: 1 deal\n") and "In the funnel: 1 deal," in one and ": 1 deal, " in one
    assert "1 deals" not in one and " 0 deals" in one
    many = _rollup(12, "en", tmp_path)
    assert many.startswith("Pipeline review as of 20 Nov 2026: 12 deals\n")


def test_rollup_tables_line_up_with_chinese_text(tmp_path) -> None:
    from dealcoach.engine.wording import display_width

    text = _rollup(12, "zh", tmp_path)
    table = text.split("■ 按阶段\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(table) > 3
    assert len({display_width(line) for line in table}) == 1  # amounts right-aligned to one edge
    counts = [display_width(line[: line.index("CNY")].rstrip()) for line in table[1:]]
    assert len(set(counts)) == 1  # the deal counts end in one column whatever the width of the Chinese stage names


def test_plural_forms_follow_cldr() -> None:
    from dealcoach.engine.wording import aligned, plural_category

    assert [plural_category("en", n) for n in (0, 1, 2, 1.5)] == ["other", "one", "other", "other"]
    assert {plural_category("zh", n) for n in (0, 1, 2)} == {"other"}
    assert aligned(["名称", "n"], [["甲", "1"], ["abc", "12"]]) == ["名称   n", "甲     1", "abc   12"]


def test_every_bundled_example_passes_the_schema_an_editor_would_check_it_with() -> None:
    import jsonschema
    import pytest

    from dealcoach.engine.loading import parse_text
    from dealcoach.engine.model import Deal

    schema = Deal.model_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    assert any(".zh." in p.name for p in examples)
    for path in examples:
        document = parse_text(path.read_text(encoding="utf-8"), str(path))
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, f"{path.name}: {errors[:5]}"
    wrong = {**parse_text((ROOT / "examples" / "example-deal.zh.yaml").read_text(encoding="utf-8"), "x")}
    wrong["contacts"] = [{**wrong["contacts"][0], "roles": ["老板"]}]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(wrong)  # the schema still refuses what the reader refuses


def test_a_deal_can_be_reviewed_as_it_stood_before_its_latest_contacts() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    earlier = CliRunner().invoke(cli, ["review", str(ROOT / "examples" / "example-deal.zh.yaml"), "--as-of", "2026-10-20", "--format", "json"])
    assert earlier.exit_code == 0, earlier.output
    assert json.loads(earlier.output)["as_of"] == "2026-10-20"
    before_stage = CliRunner().invoke(cli, ["review", str(ROOT / "examples" / "example-deal.zh.yaml"), "--as-of", "2026-10-01"])
    assert before_stage.exit_code == 3 and "stage_entered: 2026-10-15 is after as_of 2026-10-01" in before_stage.output


def test_hubspot_customer_is_the_associated_company_not_the_deal_name() -> None:
    import datetime as dt

    import dealcoach
    from dealcoach.engine.api import coach

    bundle = json.loads((ROOT / "tests" / "crm" / "hubspot-deal.json").read_text(encoding="utf-8"))
    document = coach(None).from_crm("hubspot", bundle, as_of=dt.date(2026, 11, 20))
    assert document["customer"]["name"] == "Nordic Foods AB" != document["name"]
    without = {k: v for k, v in bundle.items() if k != "companies"}
    try:
        coach(None).from_crm("hubspot", without, as_of=dt.date(2026, 11, 20))
    except dealcoach.DealInputError as error:
        assert error.problems[0].path == "companies" and "batch/read" in error.problems[0].message
    else:
        raise AssertionError("a HubSpot deal without its company was read")


def test_readme_lists_every_endpoint_and_its_api_example_does_something() -> None:
    import dealcoach
    from dealcoach.service.app import Settings, create_app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = set(create_app(Settings()).openapi()["paths"])
    assert len(paths) >= 11
    table = readme.split("| endpoint | does |", 1)[1].split("\n\n", 1)[0]
    cells = set(re.findall(r"`(?:GET |POST |DELETE )?(/v1/[^`?]*)", table))
    kinds = "{salesforce\\|hubspot\\|odoo\\|fxiaoke\\|neocrm}"
    missing = [path for path in sorted(paths) if path not in cells and path.replace("{crm}", kinds) not in cells]
    assert not missing, missing
    example = readme.split("## Python API", 1)[1]
    assert 'gate("deal.yaml", to="bidding")' in example
    result = dealcoach.gate(str(ROOT / "examples" / "example-deal.zh.yaml"), to="bidding")
    assert result.allowed is False and result.unmet_milestones  # the example shows a gate that has something to say


def test_a_crm_record_read_as_a_deal_file_says_which_option_reads_it() -> None:
    import pytest
    from click.testing import CliRunner

    from dealcoach.cli import cli

    for crm, name, fixture in (("salesforce", "a Salesforce", "salesforce-opportunity.json"), ("hubspot", "a HubSpot", "hubspot-deal.json"),
                               ("odoo", "an Odoo", "odoo-lead.json")):
        shown = CliRunner().invoke(cli, ["review", str(ROOT / "tests" / "crm" / fixture)])
        assert shown.exit_code == 3
        assert "invalid deal (1 problem)" in shown.output, shown.output  # one line, not a field list repeated per field
        assert f"this looks like {name} record" in shown.output and f"--from {crm} --as-of DATE" in shown.output
    with pytest.raises(Exception) as refused:  # a broken deal file is still told what is wrong with it, field by field
        import dealcoach

        dealcoach.review({"id": "x", "name": "n", "StageName": "Prospecting"})
    assert "looks like" not in str(refused.value) and "StageName" in str(refused.value)


def test_brief_attendees_by_id_or_name_and_usage_errors_for_the_rest() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    deal = str(ROOT / "examples" / "example-deal.en.yaml")
    base = ["brief", deal, "--purpose", "negotiation", "--format", "json", "--lang", "en"]
    by_name = CliRunner().invoke(cli, [*base, "-a", "Thomas Berg,novak", "--date", "2026-11-25"])
    assert by_name.exit_code == 0, by_name.output
    assert [a["id"] for a in json.loads(by_name.output)["brief"]["attendees"]] == ["berg", "novak"]
    unknown = CliRunner().invoke(cli, [*base, "-a", "berg,nobody", "--date", "2026-11-25"])
    assert unknown.exit_code == 2 and "nobody" in unknown.output and "berg (Thomas Berg)" in unknown.output
    assert "invalid deal" not in unknown.output
    past = CliRunner().invoke(cli, [*base, "-a", "berg", "--date", "2026-11-01"])
    assert past.exit_code == 2 and "before the deal's as_of 2026-11-20" in past.output


def test_changes_compare_a_deal_with_itself_and_count_only_milestones_reached_as_done() -> None:
    import pytest

    import dealcoach
    from dealcoach.engine.coach import UsageError
    from dealcoach.engine.loading import parse_text

    zh = parse_text((ROOT / "examples" / "example-deal.zh.yaml").read_text(encoding="utf-8"), "zh")
    en = parse_text((ROOT / "examples" / "example-deal.en.yaml").read_text(encoding="utf-8"), "en")
    with pytest.raises(UsageError, match="compare a deal with itself"):
        dealcoach.changes(zh, en)
    later = {**zh, "as_of": "2026-12-01", "stage": "bidding", "stage_entered": "2026-11-28", "buying_step": "tender_evaluation"}
    moved = dealcoach.changes(zh, later)
    assert moved.stage_moved == 1
    skipped = {f.subject for f in moved.previous.findings if f.mark in ("next_milestone", "unmet_milestone")} - set(later["milestones"])
    assert skipped, "the example must have milestones it has not reached"
    assert not [f for f in moved.done_actions if f.subject in skipped]  # moving the stage did not do them
    reached = {**later, "milestones": [*zh["milestones"], *sorted(skipped)]}
    done = dealcoach.changes(zh, reached)
    assert {f.subject for f in done.done_actions} & skipped
    with pytest.raises(UsageError, match="give the older one first"):
        dealcoach.changes(later, zh)


def test_help_is_whole_and_every_option_says_what_it_does() -> None:
    import click
    from click.testing import CliRunner

    from dealcoach.cli import cli

    top = CliRunner().invoke(cli, ["--help"])
    commands = top.output.split("Commands:", 1)[1]
    assert top.exit_code == 0 and "..." not in commands and "(e.g." not in commands
    for name, command in cli.commands.items():
        shown = CliRunner().invoke(cli, [name, "--help"])
        assert shown.exit_code == 0 and "%Y" not in shown.output, name
        silent = [p.name for p in command.params if isinstance(p, click.Option) and not p.help and p.name != "help"]
        assert not silent, f"{name}: options without help: {silent}"


def test_dates_are_checked_with_the_reason() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    deal = str(ROOT / "examples" / "example-deal.zh.yaml")
    cases = (("2026-13-01", "month must be in 1..12"), ("2026-02-30", "day is out of range for month"), ("soon", "write it as YYYY-MM-DD"))
    for given, reason in cases:
        shown = CliRunner().invoke(cli, ["review", deal, "--as-of", given])
        assert shown.exit_code == 2 and f"'{given}' is not a date: {reason}" in shown.output


def test_output_language_follows_the_deal_unless_asked() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    en, zh = str(ROOT / "examples" / "example-deal.en.yaml"), str(ROOT / "examples" / "example-deal.zh.yaml")
    assert "Do these three first" in CliRunner().invoke(cli, ["review", en]).output
    assert "先做这三件" in CliRunner().invoke(cli, ["review", zh]).output
    assert "先做这三件" in CliRunner().invoke(cli, ["review", en, "--lang", "zh"]).output
    gate = CliRunner().invoke(cli, ["gate", en, "--to", "negotiation"])
    assert gate.exit_code == 1 and "Stage gate" in gate.output


def test_rules_speak_both_languages() -> None:
    from click.testing import CliRunner

    from dealcoach.cli import cli

    zh = CliRunner().invoke(cli, ["rules"]).output.splitlines()
    en = CliRunner().invoke(cli, ["rules", "--lang", "en"]).output.splitlines()
    assert len(zh) == len(en) > 50
    assert any("有赞助者却看不清内部" in line for line in zh) and not any("有赞助者" in line for line in en)
    assert CliRunner().invoke(cli, ["rules", "DC406", "--lang", "en", "--format", "json"]).output.count('"name"') == 1


def test_pipeline_eta_counts_from_the_first_result_not_from_start_up() -> None:
    from dealcoach.cli import SteadyEta

    now = [0.0]
    eta = SteadyEta(100, clock=lambda: now[0])
    assert eta.text() == "starting"
    now[0] = 10.0  # ten seconds of worker start-up before the first result
    eta.step()
    for _ in range(9):  # then a chunk of nine more a second later
        now[0] += 1 / 9
        eta.step()
    assert eta.text() == "about 0:00:10 left"


def test_pipeline_progress_bar_runs_with_its_eta(tmp_path) -> None:
    import io

    from dealcoach import cli as command_line

    shown = io.StringIO()
    bar = command_line._progress(3)
    bar.file = shown
    bar._is_atty = True  # as on a terminal
    with bar:
        for _ in range(3):
            bar.update(1)
    assert "about 0:00:00 left" in shown.getvalue()


def test_ctrl_c_while_the_command_line_loads_is_an_interrupt_not_a_traceback(monkeypatch, capsys) -> None:
    import pytest

    from dealcoach import entry

    class Interrupting:
        def find_spec(self, name, path=None, target=None):
            if name == "dealcoach.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "dealcoach.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    assert stop.value.code == 130 and capsys.readouterr().err == "interrupted\n"


def test_importing_the_package_loads_no_engine_until_a_name_is_used() -> None:
    probe = ("import sys, dealcoach; before = 'dealcoach.engine.api' in sys.modules; dealcoach.review; "
             "print(before, 'dealcoach.engine.api' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["False", "True"]
