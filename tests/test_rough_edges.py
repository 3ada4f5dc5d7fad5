"""What a new user meets first: each rough edge found from outside, with the test that keeps it smooth."""

from __future__ import annotations

import json
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
