"""`dealcoach test PLAYBOOK`: scenarios pass and fail like a test runner's, coverage names what no scenario
exercised, and CI systems read the JUnit XML."""

from __future__ import annotations

import json
import shutil
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner

from dealcoach.cli import cli

from company import rule, write_playbook
from helpers import ROOT

EXAMPLE = ROOT / "examples" / "company-playbook"


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def playbook(tmp_path):
    """A copy of the example company playbook, its scenarios pointing at the bundled deal."""
    copy = tmp_path / "playbook"
    shutil.copytree(EXAMPLE, copy)
    for path in (copy / "scenarios").glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace(
            "../../grid-monitoring-soe.zh.yaml", str(ROOT / "examples" / "grid-monitoring-soe.zh.yaml")), encoding="utf-8")
    return copy


def add_scenarios(playbook, name: str, scenarios: list[dict]) -> None:
    document = {"base": str(ROOT / "examples" / "grid-monitoring-soe.zh.yaml"), "scenarios": scenarios}
    (playbook / "scenarios" / name).write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def test_the_example_playbooks_scenarios_pass(run) -> None:
    result = run("test", EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "14 passed, 0 failed, 0 could not run" in result.output
    assert result.output.count("PASS ") == 14


def test_a_broken_scenario_fails_with_what_was_expected_and_why(run, playbook) -> None:
    add_scenarios(playbook, "broken.yaml", [
        {"name": "expects a finding that does not fire", "expect": {"shown": ["HX101"]}},
        {"name": "expects a shown finding absent", "expect": {"not_shown": ["DC310"]}},
        {"name": "expects the wrong gate", "expect": {"gate": {"to": "negotiation", "allowed": True}}},
        {"name": "set aside by stage", "change": {"stage": "negotiation", "buying_step": "purchase_commitment",
                                                  "contacts": [{"id": "xu", "stance": "neutral"}]},
         "expect": {"shown": ["HX101"]}},
    ])
    result = run("test", playbook, "-q")
    assert result.exit_code == 1
    output = result.output
    assert "FAIL   " in output and "broken.yaml:" in output and "PASS" not in output  # -q: only what did not pass
    assert "expected HX101 to be shown: it did not fire" in output
    assert "expected DC310 not to be shown; it was (record fields read:" in output
    assert "expected the gate to negotiation to allow the move; it may not advance (blocked by" in output
    assert "it fired but was set aside: the rule is not shown in stage negotiation" in output
    assert "14 passed, 4 failed, 0 could not run" in output


def test_a_scenario_that_cannot_run_is_reported_not_a_crash(run, playbook) -> None:
    add_scenarios(playbook, "errors.yaml", [
        {"name": "an invalid change", "change": {"amount": "a lot"}, "expect": {"shown": []}},
        {"name": "an unknown gate stage", "expect": {"gate": {"to": "nowhere", "allowed": True}}},
    ])
    (playbook / "scenarios" / "not-a-scenario.yaml").write_text("scenarios: [{name: x}]\n", encoding="utf-8")
    (playbook / "scenarios" / "tabbed.yaml").write_text("base: x\nscenarios:\n\t- name: a\n", encoding="utf-8")
    result = run("test", playbook)
    assert "tabbed.yaml: malformed YAML at line 3, column 1" in result.output and "(deal)" not in result.output
    assert result.exit_code == 1
    assert "ERROR" in result.output and "amount" in result.output
    assert "'nowhere' is not a stage of standard-6" in result.output
    assert "not-a-scenario.yaml:1  (the file)" in result.output and "scenarios[0].expect: Field required" in result.output
    assert "4 could not run" in result.output and "Traceback" not in result.output


def test_a_template_that_breaks_on_a_scenarios_deal_fails_that_scenario(run, playbook) -> None:
    (playbook / "templates/findings/en/HX102.j2").write_text(
        "{% block short %}s{% endblock %}{% block title %}{{ deal.no_such_thing }}{% endblock %}{% block why %}w{% endblock %}"
        "{% block action %}a{% endblock %}{% block clears %}c{% endblock %}{% block first %}f{% endblock %}", encoding="utf-8")
    result = run("test", playbook, "-k", "要让价、记录里没有对手")
    assert result.exit_code == 1
    assert "HX102.j2" in result.output and "no_such_thing" in result.output
    assert "0 passed, 0 failed, 1 could not run" in result.output


def test_a_template_reading_a_name_it_is_never_given_fails_when_the_playbook_loads(run, playbook) -> None:
    path = playbook / "templates/findings/zh/HX103.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("{{ by }}找个由头", "{{ deadline }}找个由头"), encoding="utf-8")
    result = run("test", playbook)
    assert result.exit_code == 4 and "PASS" not in result.output
    assert "HX103.j2: template of company rule HX103 reads 'deadline', which it is never given" in result.output
    assert "days_since_contact" in result.output  # what it is given, the person's fields among them


def test_coverage_names_an_unfired_rule_and_a_test_never_true(run, playbook) -> None:
    settings = yaml.safe_load((playbook / "playbook.yaml").read_text(encoding="utf-8"))
    settings["company_rules"].append(rule("HX104", {"tender.accompanying_suspected": True, "amount": {"at_least": 1}}))
    write_playbook(playbook, settings, templates=("HX104",))
    result = run("test", playbook, "--coverage")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["HX104", "company"] and "NEVER FIRED" in line for line in lines)
    assert any(line.split()[:1] == ["HX101"] and "NEVER FIRED" not in line for line in lines)
    assert any("tender.accompanying_suspected true" in line and "NEVER TRUE" in line for line in lines)
    assert any("amount {at_least: 1}" in line and "NEVER FALSE" in line for line in lines)
    assert any(line.split()[:2] == ["DC505", "tuned"] for line in lines)
    assert "some contact: power core" in result.output
    assert "HX101 always shown beside DC310" in result.output  # a same-topic rule in every scenario that shows HX101
    never = next(line for line in lines if line.strip().startswith("never fired:"))
    assert "DC304" in never and "DC310" not in never


def test_coverage_as_json(run) -> None:
    result = run("test", EXAMPLE, "--coverage", "--format", "json")
    document = json.loads(result.output)
    assert document["passed"] == 14 and document["failed"] == 0
    rules = {r["code"]: r for r in document["coverage"]["rules"]}
    assert rules["HX101"]["origin"] == "company" and rules["HX101"]["fired"] == 2 and rules["HX102"]["shown"] == 1
    assert rules["DC505"]["tuned"] is True
    assert {"code": "HX101", "with": "DC310", "scenarios": 2} in document["coverage"]["shown_together"]
    assert {"code": "HX102", "test": "competitors 0", "of": "deal", "true_in": 3} in document["coverage"]["tests"]


def test_junit_xml_for_ci(run, playbook, tmp_path) -> None:
    add_scenarios(playbook, "broken.yaml", [{"name": "fails", "expect": {"shown": ["HX101"]}},
                                             {"name": "errors", "change": {"amount": "x"}, "expect": {}}])
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    result = run("test", playbook, "--junit-xml", report)
    assert result.exit_code == 1
    root = ElementTree.parse(report).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("16", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["fails"].find("failure").get("message").startswith("expected HX101 to be shown")
    assert cases["errors"].find("error") is not None
    assert cases["核心圈有人支持我们：不显示"].find("failure") is None


def test_junit_xml_that_cannot_be_written_is_exit_7(run, tmp_path) -> None:
    result = run("test", EXAMPLE, "--junit-xml", tmp_path / "no" / "such" / "dir" / "junit.xml")
    assert result.exit_code == 7 and "cannot write to" in result.output


def test_selecting_scenarios_by_name_and_by_file(run) -> None:
    by_name = run("test", EXAMPLE, "-k", "不提醒")
    assert by_name.exit_code == 0 and "3 passed" in by_name.output
    by_file = run("test", EXAMPLE, EXAMPLE / "scenarios" / "hx102-discount-without-rival.yaml")
    assert by_file.exit_code == 0 and "4 passed" in by_file.output


def test_no_scenarios_is_a_usage_error(run, tmp_path) -> None:
    empty = write_playbook(tmp_path / "empty", {})
    result = run("test", empty)
    assert result.exit_code == 2 and "no scenario files" in result.output
    nothing = run("test", EXAMPLE, "-k", "no scenario is called this")
    assert nothing.exit_code == 2


def test_an_invalid_playbook_is_exit_4_before_any_scenario(run, playbook) -> None:
    text = (playbook / "playbook.yaml").read_text(encoding="utf-8").replace("competitors: 0", "competitorz: 0")
    (playbook / "playbook.yaml").write_text(text, encoding="utf-8")
    result = run("test", playbook)
    assert result.exit_code == 4
    assert "unknown term 'competitorz'" in result.output and "PASS" not in result.output


def test_an_expectation_naming_no_rule_cannot_pass_silently(run, playbook) -> None:
    text = (playbook / "playbook.yaml").read_text(encoding="utf-8").replace("rules:\n", "rules:\n  DC315: {enabled: false}\n", 1)
    (playbook / "playbook.yaml").write_text(text, encoding="utf-8")
    add_scenarios(playbook, "names.yaml", [
        {"name": "misspelt code", "expect": {"not_shown": ["HX120"]}},
        {"name": "switched off", "expect": {"not_shown": ["DC315"]}},
        {"name": "symbol and lower case", "change": {"contacts": [{"id": "xu", "stance": "neutral"}]},
         "expect": {"shown": ["hx101", "soe-bid-without-core-supporter"]}},
        {"name": "nobody", "expect": {"not_shown": [{"code": "HX103", "about": "nobody"}]}},
        {"name": "misspelt contact", "change": {"contacts": [{"id": "xuu", "stance": "neutral"}]}, "expect": {"shown": []}},
    ])
    result = run("test", playbook, "-k", "", "-q")
    output = result.output
    assert result.exit_code == 1
    assert "'HX120' is not a rule of this playbook; did you mean HX10" in output
    assert "DC315 is switched off by this playbook, so it is never shown and this expectation can never fail" in output
    assert "symbol and lower case" not in output  # passed: -q prints only what did not pass
    assert "HX103 about 'nobody': the deal has no contact with that id" in output
    assert "the change adds contacts xuu: no contact of the base deal has that id" in output
    assert "4 could not run" in output


def test_the_junit_report_never_replaces_what_the_scenarios_read(run, playbook, tmp_path) -> None:
    scenario = playbook / "scenarios" / "hx102-discount-without-rival.yaml"
    before = scenario.read_bytes()
    for target in (scenario, ROOT / "examples" / "grid-monitoring-soe.zh.yaml", playbook / "playbook.yaml"):
        result = run("test", playbook, "--junit-xml", target)
        assert result.exit_code == 2 and "would replace a file" in result.output
    assert scenario.read_bytes() == before


def test_odd_scenarios_are_errors_and_the_junit_report_stays_valid_xml(run, playbook, tmp_path) -> None:
    add_scenarios(playbook, "odd.yaml", [
        {"name": "a\x01b\x0c", "deal": "a\x00b", "expect": {}},
        {"name": "about the deal", "expect": {"not_shown": [{"code": "HX101", "about": "xu"}]}},
    ])
    add_scenarios(playbook, "text.yaml", [{"name": "allowed as text", "expect": {"gate": {"to": "negotiation", "allowed": "yes"}}}])
    report = tmp_path / "junit.xml"
    result = run("test", playbook, "--junit-xml", report)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot read the deal" in result.output
    assert "HX101 is about the deal, not about someone" in result.output
    assert "scenarios[0].expect.gate.allowed: Input should be a valid boolean" in result.output
    names = [case.get("name") for case in ElementTree.parse(report).getroot().iter("testcase")]
    assert "a\\x01b\\x0c" in names
