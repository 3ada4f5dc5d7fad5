"""A rule is one unit: its traits, texts and cases live in files named by its code, and nothing else names it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

import dealcoach
from dealcoach.cli import cli
from dealcoach.engine.coach import Coach
from dealcoach.engine.rendering import Renderer
from dealcoach.engine.rulebook import Subject
from dealcoach.rules import catalog
from dealcoach.rules.retired import RETIRED
from dealcoach.rules.scaffold import scaffold

from helpers import EXAMPLE_ZH, ROOT, case_deal, rule_cases

RULES = catalog().findings
CASES = rule_cases()
BLOCKS = ("short", "title", "why", "action", "first", "clears")


def test_the_engine_names_no_rule_code() -> None:
    """Whatever the engine needs to know about a rule is a trait on the rule, never its code."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "engine").glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bDC\d{3}\b", line)
    ]
    assert not offenders


def test_no_live_rule_uses_a_retired_code() -> None:
    assert all(re.fullmatch(r"DC\d{3}", code) for code in RETIRED)
    assert not set(RETIRED) & set(RULES)


def _fired(code: str):
    """(finding, report) for each finding of `code` that the rule's fires cases produce."""
    for case in CASES[code]["fires"]:
        deal = case_deal(case)
        report = dealcoach.gate(deal, case["gate"]).report if "gate" in case else dealcoach.review(deal)
        for finding in report.findings:
            if finding.code == code:
                yield finding, report


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_block_renders_non_empty_in_both_languages(code: str) -> None:
    """Every fired finding renders each block in zh and en; rules about people, milestones or receivables
    also name their subject (`item`) for merged cards; the short name renders without the finding."""
    renderer = Renderer(dealcoach.load_playbook())
    fired = list(_fired(code))
    assert fired, f"{code}: no fires case produced it"
    for lang in ("zh", "en"):
        assert renderer.short_name(code, lang)
        for finding, report in fired:
            text = renderer.finding_text(finding, report, lang)
            empty = [block for block in BLOCKS if not getattr(text, block)]
            assert not empty, f"{code} {lang}: empty {empty}"
            if RULES[code].subject != Subject.DEAL:
                assert text.item, f"{code} {lang}: a rule about a {RULES[code].subject.value} needs an item block"


def test_the_scaffold_writes_only_files_named_by_the_code_and_the_rule_loads(tmp_path) -> None:
    """Scaffold a rule into a copy of the package; the copy's catalog has it, its templates render."""
    copy = tmp_path / "site" / "dealcoach"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "tests"))
    written = scaffold("DC699", "probe-rule", "qualification", "M6.1", root=copy, tests=tmp_path / "tests")
    assert len(written) == 4 and all("DC699" in path.name.upper() for path in written)
    script = (
        "import dealcoach; from dealcoach.rules import catalog; from dealcoach.engine.rendering import Renderer\n"
        "from dealcoach.engine.report import Finding\n"
        "rule = catalog().findings['DC699']\n"
        "report = dealcoach.review(r'%s')\n"
        "finding = Finding(code='DC699', symbol=rule.symbol, kind=rule.kind, severity=rule.severity, section=rule.section)\n"
        "renderer = Renderer(dealcoach.load_playbook())\n"
        "print(rule.symbol, renderer.finding_text(finding, report, 'zh').title, renderer.short_name('DC699', 'en'))\n" % EXAMPLE_ZH
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(copy.parent)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["probe-rule", "待写：一句话说清情况", "To", "write:", "short", "name"]
    with pytest.raises(ValueError, match="already used"):
        scaffold("DC102", "x", "process", "M1.1", root=tmp_path / "other")


def test_ctrl_c_during_a_gate_exits_130_not_the_gate_blocked_code(monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Coach, "gate", interrupted)
    result = CliRunner().invoke(cli, ["gate", str(EXAMPLE_ZH), "--to", "bidding"])
    assert result.exit_code == 130 and "interrupted" in result.output
