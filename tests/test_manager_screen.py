"""The manager's first screen of the pipeline roll-up: the deals to talk about this week, each with the one question
for its owner, and each owner's habit to coach; pipeline runs in the decision log and the comparison with the last
one; the roll-up as one self-contained HTML page with charts, checked in a real browser."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from dealcoach.cli import cli
from dealcoach.engine import api
from dealcoach.engine import pipeline as pipeline_run
from dealcoach.engine.report import StagePosition
from dealcoach.engine.rollup import AGENDA_SIZE, LIST_LIMIT, Digest, DigestFinding, FailedDeal, RollupBuilder

from browser import dom, needs_chromium, screenshot
from helpers import EXAMPLES, read_yaml

AS_OF = dt.date(2026, 11, 20)


def stage(index: int) -> StagePosition:
    return StagePosition(index=index, id=f"s{index}", name={"zh": f"第{index}阶段", "en": f"Stage {index}"})


def digest(deal_id: str, *, amount: float = 1_000_000, owner: str | None = "周凯", at: int = 2, close_in: int | None = 300,
           risks: tuple[tuple[str, str], ...] = (), currency: str = "CNY", stalled_days: int | None = None) -> Digest:
    """A review as the roll-up reads it: `risks` are (code, severity) in priority order."""
    findings = [DigestFinding(code=code, symbol=code.lower(), kind="risk", severity=severity) for code, severity in risks]
    if stalled_days is not None:
        findings.append(DigestFinding(code="DC105", symbol="stalled", kind="risk", severity="warn", mark="stalled",
                                      params={"days": stalled_days, "limit": 30}))
    return Digest(
        deal_id=deal_id, deal_name=f"项目 {deal_id}", owner=owner, currency=currency, amount=amount, stage_model="standard-6",
        stage=stage(at), buying_step=stage(at), as_of=AS_OF, phase="proposal",
        expected_close=AS_OF + dt.timedelta(days=close_in) if close_in is not None else None, findings=findings,
    )


def lines_file(tmp_path, deals: list[dict], name: str) -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in deals), encoding="utf-8")
    return str(path)


def example_deals() -> list[dict]:
    return [read_yaml(path) for path in EXAMPLES]


# -- ranking ---------------------------------------------------------------------------------------------------


def test_a_big_deal_closing_next_month_with_a_blocking_risk_ranks_above_a_small_calm_one() -> None:
    builder = RollupBuilder()
    builder.add(digest("CALM", amount=300_000, close_in=400, risks=(("DC502", "warn"),)))
    builder.add(digest("BIG", amount=5_000_000, close_in=35, risks=(("DC304", "block"), ("DC502", "warn"))))
    builder.add(digest("MIDDLE", amount=1_000_000, close_in=200, risks=(("DC505", "warn"),)))
    agenda = builder.build().agenda
    assert [item.deal_id for item in agenda] == ["BIG", "MIDDLE", "CALM"]
    big = agenda[0]
    assert {r.kind for r in big.reasons} == {"amount", "close", "blocking"}
    assert big.reasons[0].params["times"] > 2  # far above the pipeline's average deal


def test_at_most_five_deals_and_a_deal_that_slipped_since_the_last_run_is_on_the_list() -> None:
    deals = [digest(f"D{n:02d}", risks=(("DC304", "block"),)) for n in range(12)]  # twelve alike: ties go to the smaller id
    slipped = digest("D11", at=1, risks=(("DC304", "block"),))  # back a stage since the last run
    previous = {d.deal_id: d for d in deals}
    alone = RollupBuilder()
    compared = RollupBuilder(previous=previous)
    for builder in (alone, compared):
        for d in [*deals[:11], slipped]:
            builder.add(d)
    assert [i.deal_id for i in alone.build().agenda] == ["D00", "D01", "D02", "D03", "D04"]
    agenda = compared.build().agenda
    assert len(agenda) == AGENDA_SIZE and agenda[0].deal_id == "D11"
    assert [r.kind for r in agenda[0].reasons if r.kind == "slipped"] == ["slipped"]


def test_a_pushed_close_and_a_new_blocking_risk_count_as_movement() -> None:
    before = {"A": digest("A", close_in=30, risks=(("DC502", "warn"),)), "B": digest("B", close_in=30, risks=(("DC502", "warn"),))}
    builder = RollupBuilder(previous=before)
    builder.add(digest("A", close_in=30, risks=(("DC304", "block"), ("DC502", "warn"))))
    builder.add(digest("B", close_in=90, risks=(("DC502", "warn"),)))
    builder.add(digest("C", close_in=60, risks=(("DC502", "warn"),)))  # closer than B, but nothing moved
    rollup = builder.build()
    assert [(i.deal_id, [r.kind for r in i.reasons]) for i in rollup.agenda] == [
        ("A", ["amount", "close", "blocking", "new_blocking"]), ("B", ["amount", "close", "pushed"]), ("C", ["amount", "close"])]
    assert rollup.changes.slipped[0].detail["close_to"] == (AS_OF + dt.timedelta(days=90)).isoformat()


def test_a_deal_with_nothing_to_talk_about_is_not_on_the_list() -> None:
    builder = RollupBuilder()
    builder.add(digest("QUIET", amount=9_000_000, close_in=10))
    assert builder.build().agenda == []


# -- the question --------------------------------------------------------------------------------------------


def test_the_question_comes_from_the_deals_top_blocking_finding() -> None:
    coach = api.coach(None)
    builder = RollupBuilder(ask=pipeline_run.question_maker(coach.renderer))
    reports = {}
    results = pipeline_run.review_all((pipeline_run.Item(str(p), read_yaml(p)) for p in EXAMPLES), jobs=1)
    for path, result in zip(EXAMPLES, results, strict=True):
        builder.add(result.digest, result.line)
        reports[result.digest.deal_id] = coach.review(read_yaml(path))
    agenda = builder.build().agenda
    assert len(agenda) == AGENDA_SIZE
    for item in agenda:
        report = reports[item.deal_id]
        blocking = [f for f in report.findings if f.severity == "block"]
        top = blocking[0] if blocking else next(f for f in report.findings if f.kind == "risk")
        assert (item.focus.code, item.focus.subject) == (top.code, top.subject)
        for lang, ask, you in (("zh", "问", "你"), ("en", "Ask ", "you")):
            text = coach.renderer.finding_text(top, report.model_copy(update={"owner": you}), lang)  # said to the owner
            question = item.question[lang]
            assert question.startswith(f"{ask}{report.owner}")
            assert text.title.rstrip("。.") in question and text.first.rstrip("。.") in question
    assert "两周内你把还没表态支持的委员逐个排出争取计划" in next(i.question["zh"] for i in agenda if i.deal_id == "GD-2026-007")


def test_the_focus_is_the_blocking_finding_even_when_a_warning_ranks_first() -> None:
    builder = RollupBuilder()
    builder.add(digest("A", risks=(("DC502", "warn"), ("DC304", "block"), ("DC102", "block"))))
    builder.add(digest("B", risks=(("DC505", "warn"), ("DC502", "warn"))))
    focus = {item.deal_id: item.focus.code for item in builder.build().agenda}
    assert focus == {"A": "DC304", "B": "DC505"}


def test_without_a_worded_review_the_question_names_the_risk() -> None:
    builder = RollupBuilder()
    builder.add(digest("A", owner="孙丽", risks=(("DC304", "block"),)))
    text = api.coach(None).render(builder.build(), lang="zh", fmt="text")
    assert "问孙丽：「关键人反对我们」这一条" in text


# -- the habit per owner ---------------------------------------------------------------------------------------


def test_each_owner_gets_the_risk_that_recurs_across_their_deals() -> None:
    builder = RollupBuilder()
    for n in range(3):  # 周凯: DC502 on all three, DC105 on two; everyone else has DC105 too
        builder.add(digest(f"Z{n}", owner="周凯", risks=(("DC502", "warn"), *((("DC105", "warn"),) if n < 2 else ()))))
    for n, code in enumerate(("DC304", "DC505", "DC701")):  # 孙丽: nothing recurs
        builder.add(digest(f"S{n}", owner="孙丽", risks=((code, "warn"), ("DC105", "warn")) if n == 0 else ((code, "warn"),)))
    builder.add(digest("W0", owner="吴磊", risks=(("DC105", "warn"),)))  # one deal: no habit
    for n in range(2):  # Anna: two risks on both deals; DC105 is everyone's, DC512 hers alone
        builder.add(digest(f"A{n}", owner="Anna Keller", risks=(("DC105", "warn"), ("DC512", "warn"))))
    habits = {h.owner: (h.code, h.deals, h.of) for h in builder.build().habits}
    assert habits == {"周凯": ("DC502", 3, 3), "Anna Keller": ("DC512", 2, 2)}
    text = api.coach(None).render(builder.build(), lang="zh", fmt="text")
    assert "周凯：「目标未经客户确认」，3 单里占了 3 单" in text.split("■ 要带的习惯", 1)[1]


# -- bounded memory ---------------------------------------------------------------------------------------------


def test_the_rollup_keeps_a_bounded_number_of_deals_however_many_it_counts() -> None:
    builder = RollupBuilder(previous={f"D{n:05d}": digest(f"D{n:05d}", at=3) for n in range(0, 10_000, 2)})
    for n in range(10_000):
        deal = digest(f"D{n:05d}", amount=1_000 + n, stalled_days=(n * 7919) % 10_000, risks=(("DC304", "block"),), at=2 + n % 2)
        builder.add(deal, line="x" * 100)
        builder.add(FailedDeal(source=f"bad:{n}", deal_id=None, problems=["bad"]))
    assert len(builder.stuck) <= LIST_LIMIT and len(builder.slipped) <= LIST_LIMIT and len(builder.failed) <= LIST_LIMIT
    assert sum(len(heap) for heap in builder.candidates.values()) <= AGENDA_SIZE
    rollup = builder.build()
    assert rollup.stuck_count == 10_000 and len(rollup.stuck) == LIST_LIMIT
    assert [d.detail["days"] for d in rollup.stuck] == sorted(((n * 7919) % 10_000 for n in range(10_000)), reverse=True)[:LIST_LIMIT]
    assert rollup.changes.slipped_count == 5_000 and len(rollup.changes.slipped) == LIST_LIMIT
    assert rollup.failed_count == 10_000 and len(rollup.deals_failed) == LIST_LIMIT
    assert [i.deal_id for i in rollup.agenda] == ["D09998", "D09996", "D09994", "D09992", "D09990"]  # slipped, then the biggest


# -- the first screen in every format ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_rollup_opens_with_the_first_screen(tmp_path, lang: str) -> None:
    summary = tmp_path / "summary.txt"
    result = CliRunner().invoke(cli, ["pipeline", lines_file(tmp_path, example_deals(), "d.jsonl"), "-j", "1", "-q", "--lang", lang,
                                      "-o", str(tmp_path / "o.jsonl"), "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    text = summary.read_text(encoding="utf-8")
    agenda, habits, stages = (("■ 本周要谈的单子", "■ 要带的习惯", "■ 按阶段") if lang == "zh"
                              else ("■ Deals to talk about this week", "■ The habit to coach, per owner", "■ By stage"))
    assert text.index(agenda) < text.index(habits) < text.index(stages)
    first = text.split(agenda, 1)[1].split(habits, 1)[0]
    assert len(re.findall(r"^\d\. ", first, re.MULTILINE)) == AGENDA_SIZE
    assert ("问吴磊：技术把关者姚文斌（仪表总监）反对我们" if lang == "zh" else "Ask 吴磊: Technical gatekeeper 姚文斌") in first
    assert not re.search(r"\bDC\d{3}\b|[a-z]+_[a-z]+", first + text.split(habits, 1)[1].split(stages, 1)[0])  # no codes, no field names


def test_json_and_markdown_open_with_the_first_screen(tmp_path) -> None:
    source = lines_file(tmp_path, example_deals(), "d.jsonl")
    shown = {}
    for fmt in ("json", "markdown"):
        summary = tmp_path / f"s.{fmt}"
        result = CliRunner().invoke(cli, ["pipeline", source, "-j", "1", "-q", "-o", str(tmp_path / "o.jsonl"), "--summary", str(summary),
                                          "--summary-format", fmt])
        assert result.exit_code == 0, result.output
        shown[fmt] = summary.read_text(encoding="utf-8")
    data = json.loads(shown["json"])
    assert list(data)[:7] == ["deals_reviewed", "as_of", "deals_failed", "failed_count", "compared_with", "agenda", "habits"]
    assert data["agenda"][0]["question"]["zh"].startswith("问") and data["agenda"][0]["question"]["en"].startswith("Ask ")
    assert "## 本周要谈的单子\n\n1. **" in shown["markdown"] and "   - **问吴磊**：技术把关者" in shown["markdown"]


# -- pipeline runs in the decision log -----------------------------------------------------------------------------


def test_pipeline_logs_its_run_and_compares_with_the_last_complete_one(store_location, tmp_path, monkeypatch) -> None:
    from dealcoach.store import config as store_config

    runner = CliRunner()
    monkeypatch.delenv("DEALCOACH_STORE", raising=False)

    def run(deals: list[dict], name: str, *extra: str):
        return runner.invoke(cli, ["pipeline", lines_file(tmp_path, deals, f"{name}.jsonl"), "-j", "1", "-q", "-o", str(tmp_path / f"{name}.out"),
                                   "--summary-format", "json", "--summary", str(tmp_path / f"{name}.json"), "--store", store_location, *extra])

    first = run(example_deals(), "first")
    assert first.exit_code == 0, first.output
    assert json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))["compared_with"] is None  # nothing logged before
    store = store_config.store_for(store_location)
    [logged] = store.runs(5)
    assert logged.complete and (logged.deals, logged.failed) == (len(EXAMPLES), 0)
    decisions = [d for path in EXAMPLES for d in store.deal_decisions(read_yaml(path)["id"])]
    assert len(decisions) == len(EXAMPLES) and {d.kind for d in decisions} == {"pipeline"} and {d.run_id for d in decisions} == {logged.id}
    coach = api.coach(None)
    zh = next(d for d in decisions if d.deal_id == "SH-2026-031")
    assert zh.deal == coach.deal(read_yaml(EXAMPLES[3])).model_dump(mode="json", exclude_none=True)
    assert [f.code for f in zh.findings] == [f.code for f in coach.review(zh.deal).findings]

    later = example_deals()
    for deal in later:  # a week later
        deal["as_of"] = (dt.date.fromisoformat(str(deal["as_of"])) + dt.timedelta(days=7)).isoformat()
    grid = next(d for d in later if d["id"] == "GD-2026-007")
    grid["stage"] = "proposal"  # slipped back from bidding
    sis = next(d for d in later if d["id"] == "HG-2026-019")
    sis["expected_close"] = "2027-02-28"  # pushed
    interrupted_at = {"count": 0}
    real = pipeline_run.review_all

    def interrupted(*args, **kwargs):
        for record in real(*args, **kwargs):
            interrupted_at["count"] += 1
            if interrupted_at["count"] == 3:
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(pipeline_run, "review_all", interrupted)
    assert run(later, "broken").exit_code == 130  # an interrupted run is left incomplete ...
    monkeypatch.setattr(pipeline_run, "review_all", real)
    failed = runner.invoke(cli, ["pipeline", lines_file(tmp_path, later, "failed.jsonl"), "-j", "1", "-q", "-o", "/dev/full",
                                 "--store", store_location])
    assert failed.exit_code == 7  # ... and so is one that failed
    assert [r.id for r in store.runs(5)] == [logged.id]

    second = run(later, "second")
    assert second.exit_code == 0, second.output
    rollup = json.loads((tmp_path / "second.json").read_text(encoding="utf-8"))
    assert rollup["compared_with"]["kind"] == "log" and rollup["compared_with"]["label"] == logged.id
    changes = rollup["changes"]
    assert changes["deals_compared"] == len(EXAMPLES) and changes["slipped_count"] == 2
    assert {d["deal_id"] for d in changes["slipped"]} == {"GD-2026-007", "HG-2026-019"}
    reasons = {item["deal_id"]: [r["kind"] for r in item["reasons"]] for item in rollup["agenda"]}
    assert "slipped" in reasons["GD-2026-007"]
    assert len(store.runs(5)) == 2

    text = run(later, "third", "--summary-format", "text")  # this week's again: still against last week's, not the second run
    shown = (tmp_path / "third.json").read_text(encoding="utf-8")
    assert text.exit_code == 0 and re.search(r"和 \d+ 月 \d+ 日那次盘点比（7 单）", shown), shown
    assert "比上次退回了 1 个阶段" in shown


def test_previous_last_names_the_logged_run_and_needs_one(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DEALCOACH_STORE", raising=False)
    store = str(tmp_path / "log.sqlite3")
    source = lines_file(tmp_path, example_deals()[:2], "d.jsonl")
    runner = CliRunner()
    empty = runner.invoke(cli, ["pipeline", source, "-j", "1", "-q", "-o", str(tmp_path / "a"), "--store", store, "--previous", "last"])
    assert empty.exit_code == 9 and "no complete pipeline run is logged" in empty.output
    assert runner.invoke(cli, ["pipeline", source, "-j", "1", "-q", "-o", str(tmp_path / "b"), "--store", store]).exit_code == 0
    monkeypatch.setenv("DEALCOACH_STORE", store)  # the log may come from the environment
    again = runner.invoke(cli, ["pipeline", source, "-j", "1", "-q", "-o", str(tmp_path / "c"), "--previous", "last", "--lang", "en"])
    assert again.exit_code == 0 and "Compared with the review of 20 Nov 2026" in again.output
    assert "Since the previous run (2 deals compared)" in again.output
    missing = runner.invoke(cli, ["pipeline", source, "-o", str(tmp_path / "d"), "--previous", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


# -- the HTML page -------------------------------------------------------------------------------------------------


def _page(tmp_path, lang: str, previous: str | None = None) -> str:
    summary = tmp_path / f"rollup-{lang}.html"
    command = ["pipeline", lines_file(tmp_path, example_deals(), f"d-{lang}.jsonl"), "-j", "1", "-q", "--lang", lang,
               "-o", str(tmp_path / f"o-{lang}.jsonl"), "--summary", str(summary), "--summary-format", "html"]
    result = CliRunner().invoke(cli, [*command, *(["--previous", previous] if previous else [])])
    assert result.exit_code == 0, result.output
    return str(summary)


def test_the_html_page_is_self_contained_with_the_first_screen_on_top(tmp_path) -> None:
    earlier = tmp_path / "earlier.jsonl"
    assert CliRunner().invoke(cli, ["pipeline", lines_file(tmp_path, example_deals(), "e.jsonl"), "-j", "1", "-q", "-o", str(earlier)]).exit_code == 0
    page = open(_page(tmp_path, "zh", str(earlier)), encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)|url\(\s*["']?(?:https?:|//)""", page, re.IGNORECASE)
    assert page.count("<svg") == 5  # funnel, stages, grades, risks, movement
    assert page.index("本周要谈的单子") < page.index("要带的习惯") < page.index("<svg")
    assert "问吴磊" in page and "对比的是上次的结果文件" in page


@needs_chromium
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_html_page_in_a_real_browser(tmp_path, lang: str) -> None:
    from pathlib import Path

    page = Path(_page(tmp_path, lang))
    shown = dom(page, tmp_path)
    assert shown.count("<svg") == 4 and "<script" not in shown
    heading = "本周要谈的单子" if lang == "zh" else "Deals to talk about this week"
    ask = "问吴磊" if lang == "zh" else "Ask 吴磊"
    assert heading in shown and ask in shown and shown.index(heading) < shown.index("<svg")
    assert len(re.findall(r'<li class="(?:blocked|watch)">', shown)) == AGENDA_SIZE
    screenshot(page, tmp_path, f"rollup-{lang}", size="1000,2400")


def test_a_resumed_run_continues_the_interrupted_one_in_the_log(store_location, tmp_path, monkeypatch) -> None:
    from dealcoach.store import config as store_config

    monkeypatch.delenv("DEALCOACH_STORE", raising=False)
    source, out = lines_file(tmp_path, example_deals(), "d.jsonl"), str(tmp_path / "out.jsonl")
    command = ["pipeline", source, "-j", "1", "-q", "-o", out, "--store", store_location]
    real = pipeline_run.review_all

    def interrupted(*args, **kwargs):
        for count, record in enumerate(real(*args, **kwargs), 1):
            if count == 4:
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(pipeline_run, "review_all", interrupted)
    assert CliRunner().invoke(cli, command).exit_code == 130
    monkeypatch.setattr(pipeline_run, "review_all", real)
    store = store_config.store_for(store_location)
    assert store.runs(5) == []  # interrupted: not complete
    resumed = CliRunner().invoke(cli, [*command, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    [run] = store.runs(5)
    assert store.run_size(run.id) == len(EXAMPLES) and run.deals == len(EXAMPLES)  # one run, every deal logged once
    assert store.count()["decisions"] == len(EXAMPLES) and store.count()["runs"] == 1
