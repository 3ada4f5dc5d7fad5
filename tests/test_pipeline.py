"""Pipeline: many deals in, one JSON result per deal out (in order), a roll-up, honest exit codes."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from click.testing import CliRunner

from dealcoach.cli import cli
from dealcoach.engine import pipeline as pipeline_run
from dealcoach.engine.rollup import RollupBuilder

from helpers import EXAMPLES, read_yaml


@pytest.fixture
def deal_dir(tmp_path):
    folder = tmp_path / "deals"
    folder.mkdir()
    for path in EXAMPLES:
        shutil.copy(path, folder / path.name)
    return folder


def lines_file(tmp_path, extra: list[str] = ()) -> str:
    path = tmp_path / "deals.jsonl"
    rows = [json.dumps(read_yaml(p), ensure_ascii=False) for p in EXAMPLES] + list(extra)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_directory_in_file_order(deal_dir, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["pipeline", str(deal_dir), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    got = records(out.read_text(encoding="utf-8"))
    assert [r["source"].split("/")[-1] for r in got] == [p.name for p in EXAMPLES]
    assert all(r["ok"] and r["report"]["findings"] for r in got)
    assert f"商机盘点（截至 11 月 20 日）：共 {len(EXAMPLES)} 单" in result.output and "读不了" not in result.output


def test_bad_deals_get_error_records_and_exit_6(tmp_path) -> None:
    source = lines_file(tmp_path, ['{"id": "broken-1", "amount": "lots"}', "{not json"])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["pipeline", source, "-o", str(out), "--jobs", "1", "--lang", "en"])
    assert result.exit_code == 6
    got = records(out.read_text(encoding="utf-8"))
    assert len(got) == len(EXAMPLES) + 2 and all(r["ok"] for r in got[: len(EXAMPLES)])
    broken, garbled = got[-2:]
    assert broken["deal_id"] == "broken-1" and broken["source"].endswith(f":{len(EXAMPLES) + 1}")
    assert {"path": "as_of", "message": "required field is missing"} in broken["error"]["problems"]
    assert garbled["error"]["problems"][0]["message"].startswith("malformed JSON line")
    assert "Deals that could not be reviewed (2)" in result.output


def test_two_workers_give_the_same_results_in_the_same_order(tmp_path) -> None:
    source = lines_file(tmp_path)
    one = list(pipeline_run.review_all(pipeline_run.read_inputs(source), jobs=1))
    two = list(pipeline_run.review_all(pipeline_run.read_inputs(source), jobs=2, chunk_size=2))
    assert one == two


def test_stdin_json_lines_and_results_on_stdout(tmp_path) -> None:
    text = "\n".join(json.dumps(read_yaml(p), ensure_ascii=False) for p in EXAMPLES[:2])
    result = CliRunner().invoke(cli, ["pipeline", "-", "--jobs", "1", "--summary-format", "json"], input=text)
    assert result.exit_code == 0
    got = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"source"')]
    assert [r["source"] for r in got] == ["<stdin>:1", "<stdin>:2"]


def test_with_text_includes_rendered_findings(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["pipeline", lines_file(tmp_path), "--jobs", "1", "--with-text", "--lang", "en", "-q"])
    first = json.loads(result.stdout.splitlines()[0])
    assert first["report"]["language"] == "en" and first["report"]["findings"][0]["text"]["title"]


def test_interrupt_keeps_every_written_result(tmp_path, monkeypatch) -> None:
    real = pipeline_run.review_all

    def interrupted(*args, **kwargs):
        for count, record in enumerate(real(*args, **kwargs)):
            if count == 3:
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(pipeline_run, "review_all", interrupted)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["pipeline", lines_file(tmp_path), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 130
    assert "interrupted: 3 complete results written" in result.output
    assert len(records(out.read_text(encoding="utf-8"))) == 3


def test_rollup_counts() -> None:
    builder = RollupBuilder()
    for result in pipeline_run.review_all((pipeline_run.Item(str(p), read_yaml(p)) for p in EXAMPLES), jobs=1):
        builder.add(result.digest)
    builder.add(pipeline_run.digest(
        {"source": "x", "deal_id": None, "ok": False, "error": {"kind": "invalid_deal", "problems": [{"path": "", "message": "bad"}]}}
    ))
    rollup = builder.build()
    assert rollup.deals_reviewed == len(EXAMPLES) == 7 and len(rollup.deals_failed) == 1
    assert sum(b.deals for b in rollup.by_stage) == 7 == sum(b.deals for b in rollup.by_grade)
    assert {d.deal_id for d in rollup.ahead_of_customer} == {"SH-2026-031", "EU-2026-112"} and rollup.ahead_count == 2
    assert {d.deal_id for d in rollup.stuck} >= {"HG-2026-019", "YY-2025-044"} and rollup.stuck_count == len(rollup.stuck)
    assert [d.detail["days"] for d in rollup.stuck] == sorted((d.detail["days"] for d in rollup.stuck), reverse=True)
    assert rollup.funnel.deals + rollup.below_threshold.deals == 7
    owners = {o.owner: o for o in rollup.owners}
    assert owners["吴磊"].blocking == 1 and owners["吴磊"].deals_blocked == 1


def test_rollup_counts_the_10_5_3_1_funnel_per_owner() -> None:
    """Each deal counts at its funnel level and every level below (lead, qualified, proposal, order) for its owner."""
    builder = RollupBuilder()
    expected: dict[str, list[int]] = {}
    level = {"qualify": 0, "entry": 1, "proposal": 2, "bidding": 2, "negotiation": 2, "after_contract": 3}
    for result in pipeline_run.review_all((pipeline_run.Item(str(p), read_yaml(p)) for p in EXAMPLES), jobs=1):
        builder.add(result.digest)
        counts = expected.setdefault(result.digest.owner, [0, 0, 0, 0])
        for reached in range(level[result.digest.phase] + 1):
            counts[reached] += 1
    rows = {r.owner: (r.leads, r.qualified, r.proposals, r.orders) for r in builder.build().funnel_by_owner}
    assert rows.pop("*") == tuple(map(sum, zip(*expected.values(), strict=True)))
    assert rows == {owner: tuple(counts) for owner, counts in expected.items()}
    assert rows["周凯"] == (2, 2, 2, 1)  # one proposal-stage deal, one in implementation


def test_rollup_ranks_the_top_risks_most_frequent_first() -> None:
    """The whole ranking, not just its ends: by the number of deals with the risk, ties by code, the ten most frequent."""
    builder = RollupBuilder()
    risk_deals: Counter = Counter()  # code -> deals with at least one finding of that risk
    for result in pipeline_run.review_all((pipeline_run.Item(str(p), read_yaml(p)) for p in EXAMPLES), jobs=1):
        builder.add(result.digest)
        risk_deals.update({f.code for f in result.digest.findings if f.kind == "risk"})
    expected = sorted(risk_deals.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert len(risk_deals) > 10 and len({count for _, count in expected}) > 2  # the ranking has something to order
    assert [(r.code, r.deals) for r in builder.build().top_risks] == expected


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_summary_formats_to_a_file(tmp_path, fmt: str) -> None:
    summary = tmp_path / f"summary.{fmt}"
    result = CliRunner().invoke(
        cli, ["pipeline", lines_file(tmp_path), "--jobs", "1", "-o", str(tmp_path / "o.jsonl"), "--summary", str(summary), "--summary-format", fmt]
    )
    assert result.exit_code == 0
    text = summary.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["deals_reviewed"] == len(EXAMPLES)
    else:
        assert ("| 销售 |" in text) if fmt == "markdown" else ("周凯：" in text)


def test_missing_input_is_a_usage_error(tmp_path) -> None:
    assert CliRunner().invoke(cli, ["pipeline", str(tmp_path / "nope")]).exit_code == 2
    refused = CliRunner().invoke(cli, ["pipeline", lines_file(tmp_path), "--previous", str(tmp_path)])
    assert refused.exit_code == 2 and "is a directory" in refused.output


def test_resume_after_a_kill_keeps_complete_lines_and_finishes(tmp_path) -> None:
    source = lines_file(tmp_path)
    out = tmp_path / "out.jsonl"
    full = CliRunner().invoke(cli, ["pipeline", source, "-o", str(out), "--jobs", "1"])
    assert full.exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    torn = "".join(lines[:2]) + lines[2][: len(lines[2]) // 2]  # what a kill mid-write leaves
    out.write_text(torn, encoding="utf-8")
    resumed = CliRunner().invoke(cli, ["pipeline", source, "-o", str(out), "--jobs", "1", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert out.read_text(encoding="utf-8") == "".join(lines)
    assert f"共 {len(EXAMPLES)} 单" in resumed.output
    assert CliRunner().invoke(cli, ["pipeline", source, "--resume"]).exit_code == 2


def test_roll_up_against_a_previous_run(tmp_path) -> None:
    from test_changes import week_later

    from helpers import EXAMPLE_ZH

    before = tmp_path / "before.jsonl"
    before.write_text(json.dumps(read_yaml(EXAMPLE_ZH), ensure_ascii=False) + "\n", encoding="utf-8")
    later = week_later()
    later["stage"] = "bidding"
    later["expected_close"] = "2027-05-31"
    after = tmp_path / "after.jsonl"
    after.write_text(json.dumps(later, ensure_ascii=False) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["pipeline", str(before), "-o", str(tmp_path / "r1.jsonl"), "-j", "1"]).exit_code == 0
    result = runner.invoke(
        cli, ["pipeline", str(after), "-o", str(tmp_path / "r2.jsonl"), "-j", "1", "--previous", str(tmp_path / "r1.jsonl"),
              "--summary-format", "json"],
    )
    changes = json.loads(result.output)["changes"]
    assert changes["deals_compared"] == 1
    assert changes["with_new_blocking"][0]["detail"]["codes"][0] == "DC304"
    assert changes["moved_forward"][0]["detail"]["steps"] == 1
    assert changes["slipped"][0]["detail"] == {"close_from": "2027-03-31", "close_to": "2027-05-31"}  # moved, yet later
    text = runner.invoke(
        cli, ["pipeline", str(after), "-o", str(tmp_path / "r3.jsonl"), "-j", "1", "--previous", str(tmp_path / "r1.jsonl")]
    ).output
    assert "与上次相比（比较了 1 单）" in text and "从「提案阶段」前进 1 步" in text
    assert f"对比的是上次的结果文件 {tmp_path / 'r1.jsonl'}" in text


def test_a_big_json_lines_file_is_read_line_by_line(tmp_path) -> None:
    """Only each line is held to one deal file's size limit, not the whole batch."""
    from dealcoach.engine.loading import MAX_BYTES

    deal = json.dumps(read_yaml(EXAMPLES[0]), ensure_ascii=False)
    copies = MAX_BYTES // len(deal.encode()) + 10
    source = tmp_path / "big.jsonl"
    source.write_text("\n".join(deal for _ in range(copies)) + "\n" + "x" * (MAX_BYTES + 1) + "\n", encoding="utf-8")
    items = list(pipeline_run.read_inputs(str(source)))
    assert len(items) == copies + 1 and all(item.line for item in items[:-1])
    assert "the limit is" in items[-1].error.problems[0].message
