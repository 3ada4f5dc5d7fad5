"""Hostile playbooks: a company's playbook directory is untrusted input. Whatever it holds, loading it and
reviewing with it either works or fails with a PlaybookError (exit 4) naming the file (and the line, the key
or the term): it never reads a file outside its directory, never runs without bound, never crashes."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jinja2
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dealcoach
from dealcoach import DealInputError, PlaybookError
from dealcoach.cli import cli
from dealcoach.engine import api, rendering
from dealcoach.engine.coach import Coach
from dealcoach.engine.playbook import DEFAULT_DIR, MAX_FILES, MAX_STAGE_MODELS, MAX_STAGES, Thresholds, load_playbook
from dealcoach.engine.term_format import allowed_fields

from helpers import EXAMPLE_ZH, EXAMPLES, ROOT

DEALCOACH = str(Path(sys.executable).with_name("dealcoach"))
SECRET = "TOKEN-d41d8cd98f00b204"
TEMPLATE = "{% block title %}BODY{% endblock %}{% block why %}x{% endblock %}{% block action %}x{% endblock %}{% block clears %}x{% endblock %}"


@pytest.fixture
def playbook(tmp_path) -> Path:
    """A company playbook: a copy of the shipped one, to break."""
    root = tmp_path / "acme"
    shutil.copytree(DEFAULT_DIR, root)
    return root


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file outside the playbook (the service's token file, say)."""
    path = tmp_path / "token.txt"
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


def review(playbook: Path, *extra: str):
    """`dealcoach review` of the Chinese example with `playbook`, in-process."""
    return CliRunner().invoke(cli, ["review", str(EXAMPLE_ZH), "--playbook", str(playbook), *extra], catch_exceptions=False)


def refused(playbook: Path, *expected: str, extra: tuple[str, ...] = ()) -> str:
    """Assert the review exits 4 with every `expected` text in its message; return the message."""
    result = review(playbook, *extra)
    assert result.exit_code == 4, result.output
    for text in expected:
        assert text in result.output, (text, result.output)
    assert "Traceback" not in result.output
    return result.output


def finding_title(playbook: Path, body: str, name: str = "DC102.j2") -> Path:
    """Put `body` in the title block of a finding the Chinese example shows (DC102)."""
    (playbook / "templates" / "findings" / "zh" / name).write_text(TEMPLATE.replace("BODY", body), encoding="utf-8")
    return playbook


def render_with(playbook: Path) -> str:
    """Load, review the Chinese example and render it, through the Python API, without caches."""
    rendering.environment.cache_clear()
    coach = Coach(load_playbook(playbook))
    return coach.render(coach.review(str(EXAMPLE_ZH)), lang="zh", fmt="text", show_all=True)


# -- nesting (YAML) ----------------------------------------------------------


def test_deeply_nested_playbook_yaml_exits_4_instead_of_crashing(playbook) -> None:
    """libyaml recursed once per level and the process died (SIGSEGV) on 30,000 levels."""
    (playbook / "playbook.yaml").write_text("x: " + "[" * 30000 + "]" * 30000 + "\n", encoding="utf-8")
    run = subprocess.run([DEALCOACH, "review", str(EXAMPLE_ZH), "--playbook", str(playbook)], capture_output=True, timeout=120)
    message = run.stderr.decode()
    assert run.returncode == 4, message
    assert f"{playbook / 'playbook.yaml'}, line 1: nested deeper than 20 levels" in message


@pytest.mark.parametrize("path", ["playbook.yaml", "stage_models/deep.yaml", "terms/en.yaml"])
def test_every_playbook_yaml_file_is_checked_for_nesting(playbook, path: str) -> None:
    (playbook / path).write_text("\n\nx: " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    with pytest.raises(PlaybookError, match=re.escape(f"{playbook / path}, line 3: nested deeper than 20 levels")):
        load_playbook(playbook)


# -- links and special files ----------------------------------------------------


def test_a_link_to_a_file_outside_is_refused_and_its_content_never_shown(playbook, secret) -> None:
    (playbook / "templates" / "leak.txt").symlink_to(secret)
    output = refused(finding_title(playbook, "{% include 'leak.txt' %}"), f"{playbook / 'templates' / 'leak.txt'}: a link to {secret}",
                     "outside the playbook directory")
    assert SECRET not in output


@pytest.mark.parametrize("place", ["templates/findings/zh", "playbook.yaml", "terms/en.yaml", "stage_models/standard-6.yaml"])
def test_a_playbook_file_or_folder_that_is_a_link_outside_is_refused(playbook, tmp_path, place: str) -> None:
    """A linked template folder, settings file, term table or stage model: refused however valid its target."""
    target = tmp_path / "elsewhere" / Path(place).name
    target.parent.mkdir()
    shutil.move(playbook / place, target)
    (playbook / place).symlink_to(target)
    refused(playbook, f"{playbook / place}: a link to {target}, outside the playbook directory")


def test_a_link_made_after_the_playbook_loaded_is_refused_when_read(playbook, secret) -> None:
    """The template loader checks every file it reads, not only what was there at load."""
    finding_title(playbook, "{% include 'leak.txt' %}")
    coach = Coach(load_playbook(playbook))
    report = coach.review(str(EXAMPLE_ZH))
    (playbook / "templates" / "leak.txt").symlink_to(secret)
    with pytest.raises(PlaybookError, match="leak.txt: a link to .*outside the playbook directory") as caught:
        coach.render(report, lang="zh", fmt="text")
    assert SECRET not in str(caught.value)


def test_links_inside_the_playbook_and_a_linked_playbook_directory_are_fine(playbook, tmp_path) -> None:
    shared = playbook / "shared"
    shared.mkdir()
    shutil.move(playbook / "templates" / "findings" / "zh" / "DC102.j2", shared / "DC102.j2")
    (playbook / "templates" / "findings" / "zh" / "DC102.j2").symlink_to(Path("../../../shared/DC102.j2"))
    (tmp_path / "current").symlink_to(playbook)  # --playbook reached through a link: its root is resolved first
    result = review(tmp_path / "current")
    assert result.exit_code == 0, result.output
    assert result.output == CliRunner().invoke(cli, ["review", str(EXAMPLE_ZH)]).output


def test_a_named_pipe_in_a_playbook_is_refused_not_waited_on(playbook) -> None:
    (playbook / "terms" / "en.yaml").unlink()
    os.mkfifo(playbook / "terms" / "en.yaml")
    refused(playbook, f"{playbook / 'terms' / 'en.yaml'}: neither a file nor a folder")


def test_a_playbook_with_too_many_files_is_refused(playbook) -> None:
    folder = playbook / "templates" / "many"
    folder.mkdir()
    for number in range(MAX_FILES):
        (folder / f"{number}.j2").touch()
    refused(playbook, f"more than {MAX_FILES:,} files and folders")


# -- names that mean two things ------------------------------------------------


def _stage_model(playbook: Path, change) -> Path:
    """The shipped standard-6 model, changed by `change(model)`, written over the shipped one."""
    path = playbook / "stage_models" / "standard-6.yaml"
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(model)
    path.write_text(yaml.safe_dump(model, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _stage(model: dict, stage_id: str) -> dict:
    return next(stage for stage in model["stages"] if stage["id"] == stage_id)


@pytest.mark.parametrize(
    "change,expected",
    [
        pytest.param(lambda m: _stage(m, "development")["name"].update(en="Proposal"),
                     "stage 'development' (English name) and stage 'proposal' (id) are both called 'proposal'", id="en-name-is-an-id"),
        pytest.param(lambda m: _stage(m, "bidding")["name"].update(en="sales-Entry"),
                     "stage 'sales_entry' (id) and stage 'bidding' (English name) are both called 'sales_entry'", id="folded-case-and-hyphen"),
        pytest.param(lambda m: _stage(m, "bidding")["name"].update(zh="提案阶段"),
                     "stage 'proposal' (Chinese name) and stage 'bidding' (Chinese name) are both called '提案阶段'", id="same-chinese-name"),
        pytest.param(lambda m: _stage(m, "bidding")["buying_step"]["name"].update(en="Supplier screening", zh="供应商初步调查、筛选"),
                     "buying step 'supplier_screening' (Chinese name) and buying step 'tender_evaluation' (Chinese name) are both called "
                     "'供应商初步调查、筛选' once case, spaces, hyphens and underscores are ignored (in stages 'sales_entry' and 'bidding')",
                     id="buying-step-name"),
        pytest.param(lambda m: _stage(m, "bidding")["milestones"][0].update(id="shortlisted"),
                     "milestone id 'shortlisted' is used twice (in stages 'sales_entry' and 'bidding')", id="milestone-id-twice"),
        pytest.param(lambda m: _stage(m, "bidding")["milestones"][0]["name"].update(en="Ours: at least one insider developed"),
                     "milestone 'insider_developed' (English name) and milestone", id="milestone-english-name"),
    ],
)
def test_a_spelling_naming_two_stages_steps_or_milestones_is_refused(playbook, change, expected: str) -> None:
    """find_stage and friends took the first of two entries sharing a spelling: the other was unreachable."""
    path = _stage_model(playbook, change)
    message = refused(playbook, str(path), "invalid StageModel")
    assert expected in message.replace("\n", " ")


def test_the_shipped_stage_models_have_one_meaning_per_spelling() -> None:
    for model in load_playbook().stage_models.values():
        for index, stage in enumerate(model.stages):
            assert model.find_stage(stage.name.en.upper()) == index
            assert model.find_step(stage.buying_step.name.zh) == index


# -- thresholds --------------------------------------------------------------------


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("funnel_min_amount", "1.0e+16", "less than or equal to 1000000000000000"),
        ("funnel_min_amount", "0.00001", "must be 0 or at least 0.01"),
        ("funnel_min_amount", ".inf", "finite number"),
        ("funnel_min_amount", ".nan", "finite number"),
        ("funnel_min_amount", "true", "valid number"),
        ("funnel_min_amount", "'100000'", "valid number"),
        ("soe_collective_amount", "1.0e+17", "less than or equal to 1000000000000000"),
        ("soe_collective_amount", "1e17", "valid number"),  # YAML 1.1 reads this as text
        ("customer_dependence_percent", "0.00001", "must be 0 or at least 0.01"),
        ("customer_dependence_percent", "101", "less than or equal to 100"),
        ("key_person_stale_days", "true", "valid integer"),
        ("key_person_stale_days", "60.5", "valid integer"),
        ("bad_debt_days", "99999", "less than or equal to 3650"),
        ("receivable_due_soon_days", "-1", "greater than or equal to 0"),
    ],
)
def test_a_threshold_out_of_range_is_refused_at_load_with_its_range(playbook, key: str, value: str, expected: str) -> None:
    """The rule engine could not hold such numbers: every review exited 5 ("Could not create ruleset")."""
    text = (playbook / "playbook.yaml").read_text(encoding="utf-8")
    (playbook / "playbook.yaml").write_text(re.sub(rf"(?m)^  {key}: .*$", f"  {key}: {value}", text), encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith(f"  {key}:"))
    refused(playbook, f"{playbook / 'playbook.yaml'}, line {line}: invalid Thresholds: {key}: ", expected, "(allowed: ")


@pytest.mark.parametrize(
    "settings,expected",
    [
        ("thresholds: [1, 2]\n", "'thresholds' must be a mapping of settings, not list"),
        ("priority: 3\n", "'priority' must be a mapping of settings, not int"),
        ("priority:\n  severity: {block: 200}\n", "severity needs a value for each of block, warn, info; missing: warn, info"),
        ("priority:\n  grade_weight: {A: .inf, B: 1, C: 1, D: 1, '-': 1}\n", "grade_weight.A: Input should be a finite number"),
        ("priority:\n  severity: {block: 1.0e+400, warn: 1, info: 1}\n", "severity.block"),
        ("priority:\n  focus: true\n", "focus: Input should be a valid integer"),
    ],
)
def test_settings_of_the_wrong_shape_are_refused(playbook, settings: str, expected: str) -> None:
    (playbook / "playbook.yaml").write_text(settings, encoding="utf-8")
    refused(playbook, str(playbook / "playbook.yaml"), expected)


def _at_bounds(low: bool) -> dict:
    """Every threshold at the lowest (or highest) value its documented range allows."""
    values = {}
    for name, field in Thresholds.model_fields.items():
        bounds = {key: getattr(m, key) for m in field.metadata for key in ("ge", "le") if hasattr(m, key)}
        values[name] = bounds["ge"] if low else bounds["le"]
    if low:
        values |= {"grade_a_days": 1, "grade_b_days": 2, "grade_c_days": 3, "funnel_min_amount": 0.01}
    else:
        values |= {"grade_a_days": 3648, "grade_b_days": 3649}
    return values


@pytest.mark.parametrize("low", [True, False], ids=["lowest", "highest"])
def test_every_threshold_works_across_its_whole_range(playbook, low: bool) -> None:
    """The documented ranges are what the rule engine can hold: reviews at both ends work."""
    (playbook / "playbook.yaml").write_text(yaml.safe_dump({"thresholds": _at_bounds(low)}), encoding="utf-8")
    for example in EXAMPLES:
        assert dealcoach.review(str(example), playbook=playbook).findings is not None


# -- template and size budgets -------------------------------------------------------


@pytest.mark.parametrize(
    "body,expected",
    [
        ("{{ lipsum(10**6) }}", "'lipsum' is undefined"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "steps of work"),
        ("{{ 'a' * 10**9 }}", "repeats a value to more than 1,000,000 characters"),
        ("{{ ['a'] * 10**9 }}", "repeats a value to more than 1,000,000 characters or items"),
        ("{{ range(10**9)|list }}", "range() of 1,000,000,000 numbers; at most 100,000"),
        ("{% set ns = namespace(s='a' * 100000) %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "steps of work"),
        ("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "1,000,000"),
        ("{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}", "larger than 2**256"),
        ("{{ 10 ** 10 ** 10 }}", "larger than 2**256"),
        ("{{ '%0999999999d' % 1 }}", "width or precision"),
        ("{{ '{:>999999999}'.format(1) }}", "width or precision"),
        ("{{ 'a'|center(10**9) }}", "width"),
        ("{{ 'x'.ljust(10**9) }}", "width"),
        ("{{ ('a' * 100000)|replace('a', 'b' * 1000) }}", "replace() would build"),
        ("{{ (['a' * 1000] * 900)|join('x' * 100000) }}", "join() would build"),
        ("{{ 'x'|indent(10**9) }}", "indent"),
        ("{{ [1]|batch(10**9, 'x')|list }}", "batch()"),
        ("{% set x %}{% for i in range(100000) %}" + "y" * 1000 + "{% endfor %}{% endset %}", "steps of work"),
        ("{{ 'a'.translate({97: 'b' * 1000000}) }}", "str.translate() is not allowed"),
        ("{{ (1).to_bytes(10**9, 'big') }}", "int.to_bytes() is not allowed"),
    ],
)
def test_a_template_that_would_run_without_bound_is_refused(playbook, body: str, expected: str) -> None:
    """Each of these ran for minutes or took gigabytes; the sandbox counts work and sizes, not time."""
    with pytest.raises(PlaybookError) as caught:
        render_with(finding_title(playbook, body))
    message = str(caught.value)
    assert message.startswith(f"{playbook / 'templates' / 'findings' / 'zh' / 'DC102.j2'}, block title: ")
    assert expected in message and message.endswith("(line 1)")


def test_template_bombs_exit_4_on_the_command_line(playbook) -> None:
    refused(finding_title(playbook, "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}"),
            "DC102.j2, block title: does more than 2,000,000 steps of work")


def test_a_layout_bomb_is_refused_too(playbook) -> None:
    (playbook / "templates" / "report" / "zh" / "review.j2").write_text(
        "{{ title }}\n{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}\n\n{{ m(1) }}", encoding="utf-8"
    )
    refused(playbook, f"{playbook / 'templates' / 'report' / 'zh' / 'review.j2'}, line 2: includes or calls itself without end")


@pytest.mark.parametrize(
    "where,content,expected",
    [
        ("stage_models/big.yaml", "x: '" + "a" * 1_000_001 + "'\n", "larger than 1,000,000 bytes"),
        ("templates/findings/zh/DC102.j2", "{# " + "a" * 256_001 + " #}", "larger than 256,000 bytes"),
        ("terms/en.yaml", "".join(f"k{n}: x\n" for n in range(5001)), "5,001 terms; at most 5,000"),
        ("terms/en.yaml", "format.who: '" + "a" * 2001 + "'\n", "term 'format.who' is longer than 2,000 characters"),
    ],
)
def test_oversized_playbook_files_are_refused(playbook, where: str, content: str, expected: str) -> None:
    (playbook / where).write_text(content, encoding="utf-8")
    refused(playbook, str(playbook / where), expected)


def test_a_playbook_with_too_many_stage_models_is_refused(playbook) -> None:
    for number in range(MAX_STAGE_MODELS):
        (playbook / "stage_models" / f"m{number}.yaml").touch()
    refused(playbook, f"{playbook / 'stage_models'}: {MAX_STAGE_MODELS + 2} stage models; at most {MAX_STAGE_MODELS}")


def test_a_missing_term_in_a_template_names_the_template_and_line(playbook) -> None:
    (playbook / "templates" / "report" / "zh" / "review.j2").write_text("{{ title }}\n\n{{ t('no.such.term') }}", encoding="utf-8")
    refused(playbook, f"{playbook / 'templates' / 'report' / 'zh' / 'review.j2'}, line 3: term 'no.such.term' is missing from the zh term table")


def test_a_stage_model_with_too_many_stages_is_refused(playbook) -> None:
    """60,000 stages took minutes to load; 201 are refused at once (60,000 do not fit in a playbook file)."""
    stages = [{"id": f"s{n}", "name": {"zh": f"阶段{n}", "en": f"Stage {n}"},
               "buying_step": {"id": f"b{n}", "name": {"zh": f"步骤{n}", "en": f"Step {n}"}}} for n in range(MAX_STAGES + 1)]
    path = playbook / "stage_models" / "huge.yaml"
    path.write_text(yaml.safe_dump({"id": "huge", "section": "M2", "name": {"zh": "大", "en": "Huge"}, "stages": stages}), encoding="utf-8")
    refused(playbook, str(path), f"stages: List should have at most {MAX_STAGES} items")


# -- every other broken part exits 4 ----------------------------------------------------


BROKEN = {
    "recursive macro": ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "includes or calls itself without end"),
    "self include": ("{% include 'findings/zh/DC102.j2' %}", "includes or calls itself without end"),
    "self extends": ("{% extends 'findings/zh/DC102.j2' %}", "DC102.j2"),
    "huge range": ("{% for i in range(10**9) %}{% endfor %}", "range() of 1,000,000,000 numbers"),
    "division by zero": ("{{ 1/0 }}", "ZeroDivisionError: division by zero"),
    "divisibleby zero": ("{{ 3 is divisibleby 0 }}", "ZeroDivisionError"),
    "wrong types": ("{{ 'a' + 1 }}", "TypeError"),
    "unknown filter": ("{{ 'a'|no_such_filter }}", "No filter named 'no_such_filter'"),
    "unknown test": ("{{ 'a' is no_such_test }}", "No test named 'no_such_test'"),
    "float overflow": ("{{ 10.0 ** 400 }}", "larger than 2**256"),
    "model method": ("{{ thresholds.items()|list }}{{ deal.name.encode() }}", "str.encode() is not allowed"),
    "include missing": ("{% include 'nope.j2' %}", "includes 'nope.j2', which is not in the playbook"),
    "call a number": ("{{ deal.amount() }}", "not callable"),
}


@pytest.mark.parametrize("body,expected", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_template_exits_4_naming_file_and_line(playbook, body: str, expected: str) -> None:
    """These exited 5 (an internal error) or hung: a company's template is not dealcoach's bug."""
    message = refused(finding_title(playbook, body), "DC102.j2", expected)
    assert re.search(r"line \d+", message), message


@pytest.mark.parametrize(
    "body,expected",
    [
        ("{{ " + "9" * 5000 + " }}", "Exceeds the limit (4300 digits) for integer string conversion"),
        ("{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}", "nested too deeply to be read"),
    ],
    ids=["huge-literal", "deep-parentheses"],
)
def test_a_template_that_cannot_be_compiled_exits_4_naming_its_file(playbook, body: str, expected: str) -> None:
    refused(finding_title(playbook, body), f"{playbook / 'templates' / 'findings' / 'zh' / 'DC102.j2'}: ", expected)


def test_a_syntax_error_in_an_included_template_names_that_file_and_line(playbook) -> None:
    (playbook / "templates" / "findings" / "zh" / "part.j2").write_text("ok\n{% if %}", encoding="utf-8")
    refused(finding_title(playbook, "{% include 'findings/zh/part.j2' %}"), f"{playbook / 'templates' / 'findings' / 'zh' / 'part.j2'}, line 2: ")


@pytest.mark.parametrize("included", [False, True], ids=["template", "included"])
def test_a_template_that_is_not_utf8_is_refused(playbook, included: bool) -> None:
    folder = playbook / "templates" / "findings" / "zh"
    name = "part.j2" if included else "DC102.j2"
    if included:
        finding_title(playbook, "{% include 'findings/zh/part.j2' %}")
    (folder / name).write_bytes(TEMPLATE.replace("BODY", "x").encode("utf-16"))
    refused(playbook, f"{folder / name}: not UTF-8 text (byte 0)")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("{nope}", "uses {nope}, which it is never given; its fields: {name}, {title}"),
        ("{", "Single '{' encountered in format string; write {{ or }} for a literal brace"),
        ("}", "Single '}' encountered"),
        ("{name.__class__.__mro__}", "{name.__class__.__mro__} is not a plain field name"),
        ("{title[0]}", "{title[0]} is not a plain field name"),
        ("{0}", "{0} is not a plain field name"),
        ("{}", "{} is not a plain field name"),
        ("{name!r}", "conversions are not allowed"),
        ("{name:>999999999}", "format specs are not allowed"),
    ],
)
def test_a_term_that_is_not_plain_named_fields_is_refused_at_load(playbook, text: str, expected: str) -> None:
    """Term texts were filled with str.format: `{x.__class__...}` walked into internals, `{` crashed (exit 5)."""
    path = playbook / "terms" / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f"extra.key: ok\nformat.who: {yaml.safe_dump(text).splitlines()[0]}\n",
                    encoding="utf-8")
    line = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(PlaybookError) as caught:
        load_playbook(playbook)
    assert str(caught.value).startswith(f"{path}, line {line}: term 'format.who'") and expected in str(caught.value)
    refused(playbook, "term 'format.who'", extra=("--lang", "en"))


def test_a_company_term_may_use_every_field_its_key_is_given(playbook) -> None:
    path = playbook / "terms" / "en.yaml"
    path.write_text('card.rule: "{short} ({count}): {items}"\nmy.own: "{anything}"\n', encoding="utf-8")
    assert load_playbook(playbook).terms["en"]["card.rule"] == "{short} ({count}): {items}"


def test_the_fields_a_term_may_use_are_all_given_where_it_is_filled(monkeypatch) -> None:
    """allowed_fields (what a company term may use) never names a field the code does not give."""
    given: dict[str, set[frozenset]] = {}
    fill = rendering.fill_term

    def recording(key, text, values):
        given.setdefault(key, set()).add(frozenset(values))
        return fill(key, text, values)

    monkeypatch.setattr(rendering, "fill_term", recording)
    coach = api.coach()
    for example in EXAMPLES:
        report = coach.review(str(example))
        attendees = [c.id for c in coach.deal(str(example)).contacts][:3]
        for lang in ("zh", "en"):
            coach.render(report, lang=lang, fmt="text", show_all=True)
            for purpose in ("negotiation", "technical_exchange", "proposal"):
                coach.render_brief(coach.brief(str(example), attendees, dt.date(2026, 12, 1), purpose), lang=lang, fmt="markdown")
    shipped = load_playbook().terms
    assert len(given) > 20
    for key, calls in given.items():
        for values in calls:
            assert allowed_fields(key, shipped) <= values, (key, values)


def test_no_term_is_filled_with_str_format_directly() -> None:
    """Every term goes through engine.term_format.fill_term (plain named fields only)."""
    for module in ("rendering.py", "brief_rendering.py"):
        assert ".format(" not in (ROOT / "engine" / module).read_text(encoding="utf-8"), module


# -- the brief escapes like the review ---------------------------------------------------


def test_brief_markdown_escapes_names_like_the_review_markdown(deal, tmp_path) -> None:
    deal["name"] = "<script>alert(1)</script>"
    deal["contacts"] = [{"id": "x", "name": "<img src=x onerror=alert(1)>", "title": "**CEO** & <b>boss</b>",
                         "roles": ["decision_maker"], "stance": "supports"}]
    path = tmp_path / "deal.yaml"
    path.write_text(yaml.safe_dump(deal, allow_unicode=True), encoding="utf-8")
    brief = CliRunner().invoke(cli, ["brief", str(path), "-a", "x", "--date", "2026-12-01", "--purpose", "negotiation", "--format", "markdown"])
    assert brief.exit_code == 0, brief.output
    review = dealcoach.render(dealcoach.review(deal), lang="zh", fmt="markdown")
    for raw, escaped in (("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
                         ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"), ("& <b>", "& &lt;b&gt;")):
        assert raw not in brief.output
        assert escaped in brief.output
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in review and "<script>" not in review
    page = CliRunner().invoke(cli, ["brief", str(path), "-a", "x", "--date", "2026-12-01", "--purpose", "negotiation", "--format", "html"])
    assert page.exit_code == 0 and "<script>alert" not in page.output and "<img src=x" not in page.output
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.output


# -- generated hostile playbooks -------------------------------------------------------------

NUMBERS = st.sampled_from([0, 1, 3, 1000, 10**5, 10**9, -1])
NAMES = st.sampled_from(["part.j2", "findings/zh/part.j2", "findings/zh/DC102.j2", "report/zh/header.j2", "nope.j2", "../x.j2", "/etc/passwd"])
FILTERS = st.sampled_from([*sorted(jinja2.Environment().filters), "nope"])
_LEAVES = st.one_of(
    st.sampled_from([
        "x", "{{ deal.name }}", "{{ 1/0 }}", "{{ missing }}", "{{ ''.__class__.__mro__ }}", "{{ term('stance', 'supports') }}",
        "{{ thresholds.items()|list }}", "{{ deal.amount.hex() }}", "{% if %}", "{{", "{% for %}", "{% endfor %}", "{{ 3 is divisibleby 0 }}",
        "{{ t('format.who').format(name='a', title='b') }}", "{{ deal.__class__ }}", "{{ named('coach') }}", "{{ 'a' ~ 1 }}",
    ]),
    NUMBERS.map(lambda n: f"{{{{ 'ab' * {n} }}}}"),
    NUMBERS.map(lambda n: f"{{{{ range({n})|list|length }}}}"),
    NUMBERS.map(lambda n: f"{{{{ lipsum({n}) }}}}"),
    NAMES.map(lambda name: f"{{% include '{name}' %}}"),
    NAMES.map(lambda name: f"{{% import '{name}' as m %}}"),
    st.tuples(FILTERS, NUMBERS).map(lambda p: f"{{{{ 'ab'|{p[0]}({p[1]}) }}}}"),
    FILTERS.map(lambda name: f"{{{{ [1, 'a', none]|{name} }}}}"),
    st.tuples(NUMBERS, NUMBERS).map(lambda p: f"{{{{ {p[0]} ** {p[1]} }}}}"),
    NUMBERS.map(lambda n: f"{{{{ '%{n}d' % 1 }}}}"),
    NUMBERS.map(lambda n: f"{{{{ '{{:>{n}}}'.format(1) }}}}"),
    NUMBERS.map(lambda n: f"{{{{ money({n}) }}}}{{{{ duration({n}) }}}}"),
)
TEMPLATES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.tuples(NUMBERS, inner).map(lambda p: f"{{% for i in range({p[0]}) %}}{p[1]}{{% endfor %}}"),
        inner.map(lambda body: f"{{% macro m(n) %}}{body}{{{{ m(n) }}}}{{% endmacro %}}{{{{ m(1) }}}}"),
        inner.map(lambda body: f"{{% macro m(n) %}}{body}{{% endmacro %}}{{{{ m(1) }}}}{{{{ m(2) }}}}"),
        st.tuples(inner, inner).map("".join),
        inner.map(lambda body: f"{{% if deal.amount > 0 %}}{body}{{% endif %}}"),
        inner.map(lambda body: f"{{% filter upper %}}{body}{{% endfilter %}}"),
        inner.map(lambda body: f"{{% set x %}}{body}{{% endset %}}{{{{ x ~ x }}}}"),
        NUMBERS.map(lambda n: f"{{% set ns = namespace(s='ab') %}}{{% for i in range({n}) %}}{{% set ns.s = ns.s ~ ns.s %}}{{% endfor %}}"),
    ),
    max_leaves=5,
)
SETTING_VALUES = st.sampled_from(
    [0, 1, 2, 30, 100, 3650, 3651, 1e15, 1e16, 0.01, 0.00001, -1, 10**20, float("inf"), float("nan"), True, "5", [1, 2], None, {}]
)
SETTINGS = st.one_of(
    st.tuples(st.sampled_from(["thresholds"]), st.sampled_from(sorted(Thresholds.model_fields)), SETTING_VALUES),
    st.tuples(st.sampled_from(["priority"]),
              st.sampled_from(["focus", "urgency", "urgency_days", "shown", "first_moves", "severity", "grade_weight"]),
              st.one_of(SETTING_VALUES, SETTING_VALUES.map(lambda v: {"block": v, "warn": 1, "info": 1}),
                        SETTING_VALUES.map(lambda v: {"A": v, "B": 1, "C": 1, "D": 1, "-": 1}))),
).map(lambda p: yaml.safe_dump({p[0]: {p[1]: p[2]}}))
TERM_TEXTS = st.lists(st.sampled_from(["{", "}", "{{", "}}", "name", "title", "who", "items", "count", "days", ".", "[0]", "!r", ":>9", "__class__",
                                       "x", " ", "短"]), max_size=8).map("".join)
TERM_KEYS = st.sampled_from(["format.who", "card.rule", "card.person", "duration.days", "duration.months", "review.more", "list.separator",
                             "label.we", "review.block", "my.own"])
SPELLING_PARTS = ("id", "zh", "en")


def _renamed_stage_model(data) -> str:
    """standard-6 with one stage, buying step or milestone renamed, often to another one's spelling, folded or not."""
    model = yaml.safe_load((DEFAULT_DIR / "stage_models" / "standard-6.yaml").read_text(encoding="utf-8"))
    entries = [s for s in model["stages"]] + [s["buying_step"] for s in model["stages"]] + [m for s in model["stages"] for m in s["milestones"]]
    target, source = data.draw(st.sampled_from(entries)), data.draw(st.sampled_from(entries))
    spelling = data.draw(st.sampled_from(SPELLING_PARTS))
    taken = source["id"] if spelling == "id" else source["name"][spelling]
    new = data.draw(st.one_of(st.just(taken), st.just(taken.upper().replace("_", " ")), st.just(taken.replace("_", "-")), st.text(max_size=8)))
    part = data.draw(st.sampled_from(SPELLING_PARTS))
    if part == "id":
        target["id"] = new
    else:
        target["name"][part] = new
    return yaml.safe_dump(model, allow_unicode=True, sort_keys=False)


class _Hostile:
    """One copy of the shipped playbook, changed one file at a time and put back after each example."""

    FILES = ("playbook.yaml", "stage_models/standard-6.yaml", "terms/zh.yaml", "templates/findings/zh/DC102.j2", "templates/report/zh/review.j2")

    def __init__(self, root: Path, outside: Path):
        self.root, self.outside = root, outside
        self.original = {name: (root / name).read_bytes() for name in self.FILES}
        self.clock = 1_700_000_000_000_000_000

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        self._touch(path)

    def _touch(self, path: Path) -> None:
        """A new modification time each change, so the template cache never serves an earlier version."""
        self.clock += 1_000_000_000
        os.utime(path, ns=(self.clock, self.clock), follow_symlinks=False)

    def link(self, name: str, target: Path) -> None:
        path = self.root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.symlink_to(target)

    def restore(self) -> None:
        for extra in ("templates/findings/zh/part.j2", "templates/report/zh/linked"):
            path = self.root / extra
            if path.is_symlink() or path.exists():
                path.unlink()
        for name, content in self.original.items():
            path = self.root / name
            if path.is_symlink():
                path.unlink()
            path.write_bytes(content)
            self._touch(path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> _Hostile:
    base = tmp_path_factory.mktemp("hostile")
    shutil.copytree(DEFAULT_DIR, base / "acme")
    (base / "token.txt").write_text(SECRET, encoding="utf-8")
    return _Hostile(base / "acme", base / "token.txt")


def _apply(hostile: _Hostile, data) -> str:
    """Make one random change to the playbook; return its kind."""
    kind = data.draw(st.sampled_from(["setting", "stage model", "template", "included template", "layout", "term", "link"]))
    if kind == "setting":
        hostile.write("playbook.yaml", data.draw(SETTINGS))
    elif kind == "stage model":
        hostile.write("stage_models/standard-6.yaml", _renamed_stage_model(data))
    elif kind == "template":
        hostile.write("templates/findings/zh/DC102.j2", TEMPLATE.replace("BODY", data.draw(TEMPLATES)))
    elif kind == "included template":
        hostile.write("templates/findings/zh/DC102.j2", TEMPLATE.replace("BODY", "{% include 'findings/zh/part.j2' %}"))
        hostile.write("templates/findings/zh/part.j2", data.draw(TEMPLATES))
    elif kind == "layout":
        hostile.write("templates/report/zh/review.j2", "{{ title }}\n" + data.draw(TEMPLATES))
    elif kind == "term":
        hostile.write("terms/zh.yaml", yaml.safe_dump({data.draw(TERM_KEYS): data.draw(TERM_TEXTS)}, allow_unicode=True))
    else:
        place = data.draw(st.sampled_from([*_Hostile.FILES, "templates/findings/zh/part.j2", "templates/report/zh/linked"]))
        inside = data.draw(st.booleans())
        target = hostile.root / "templates" / "findings" / "zh" / "DC101.j2" if inside else hostile.outside
        hostile.link(place, target)
        if place == "templates/findings/zh/part.j2" or data.draw(st.booleans()):
            hostile.write("templates/findings/zh/DC102.j2", TEMPLATE.replace("BODY", "{% include 'findings/zh/part.j2' %}"))
    return kind


@pytest.mark.exhaustive
def test_generated_hostile_playbooks_work_or_are_refused(hostile, capsys) -> None:
    """Load a randomly broken playbook and review the Chinese example with it: it works, or a PlaybookError
    says why (an invalid deal too, when a renamed stage model no longer has the deal's stage) — never
    another exception, never the outside file's content, never without end."""
    outcomes: Counter = Counter()

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data) -> None:
        try:
            kind = _apply(hostile, data)
            try:
                coach = Coach(load_playbook(hostile.root))
                text = coach.render(coach.review(str(EXAMPLE_ZH)), lang="zh", fmt="text", show_all=True)
                outcome = "works"
                assert SECRET not in text
            except PlaybookError as error:
                outcome = "refused"
                assert SECRET not in str(error) and "Traceback" not in str(error)
            except DealInputError:
                assert kind == "stage model"
                outcome = "deal no longer fits"
            outcomes[kind, outcome] += 1
        finally:
            hostile.restore()

    check()
    with capsys.disabled():
        print(f"\ngenerated hostile playbooks: {sum(outcomes.values())}", dict(sorted(outcomes.items())))
    assert outcomes["template", "works"] and outcomes["template", "refused"] and outcomes["setting", "refused"] and outcomes["link", "refused"]


# -- work a template hides in one step, values it prints ---------------------------------------


@pytest.mark.parametrize("body", [
    '{% set s = "ab" * 499999 %}{% for i in range(100000) %}{% if s.count("b") %}{% endif %}{% endfor %}',  # a method scans its receiver
    "{% set l = range(100000)|list %}{% for i in range(100000) %}{% if -1 in l %}{% endif %}{% endfor %}",  # `in` scans the list
    "{% set a = range(100000)|list %}{% for i in range(1000) %}{% if a == a[:] %}{% endif %}{% endfor %}",  # == reads both sides
    '{% set s = "ab" * 499999 %}{% set ns = namespace(x=none) %}{% for i in range(2000) %}{% set ns.x = (ns.x, s[::-1]) %}'
    "{% endfor %}",  # each slice builds a new value
])
def test_work_hidden_in_one_step_is_charged_by_what_it_reads(playbook, body: str) -> None:
    refused(finding_title(playbook, body), "DC102.j2, block title: does more than 2,000,000 steps of work")


@pytest.mark.parametrize("body", ["{{ term }}", "{{ range }}", "{{ self }}", "{{ cycler }}", "{{ namespace }}", "{{ joiner() }}"])
def test_a_template_prints_text_not_python_objects(playbook, body: str) -> None:
    output = refused(finding_title(playbook, body), "DC102.j2, block title: prints ", "not text")
    assert "0x" not in output and "<function" not in output


def test_deep_nesting_in_a_company_layout_names_the_company_file(playbook) -> None:
    header = playbook / "templates" / "report" / "zh" / "header.j2"
    header.write_text("{{ deal" + ".x" * 20000 + " }}", encoding="utf-8")
    refused(playbook, f"{header}: includes or calls itself without end, or is nested too deeply to be read")
