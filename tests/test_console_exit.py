"""The console script ends a gate or a review at once, output complete, and every other command the usual way."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from dealcoach.cli import cli

from helpers import EXAMPLE_EN, EXAMPLE_ZH

# An exit handler that says whether the interpreter was taken apart the usual way, and whether collection was back on.
_CONSOLE = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: sys.stderr.write(f'teardown: gc {gc.isenabled()}\\n'))\n"
    "from dealcoach.entry import main\n"
    "main()\n"
)


def _console(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _CONSOLE, *args], capture_output=True, text=True, timeout=60)


def test_a_gate_or_review_ends_at_once_with_its_whole_output_and_exit_code() -> None:
    for args in (
        ["gate", str(EXAMPLE_EN), "--to", "negotiation"],
        ["gate", str(EXAMPLE_EN), "--to", "negotiation", "--format", "json"],
        ["review", str(EXAMPLE_ZH), "--format", "json"],
        ["review", str(EXAMPLE_EN), "--all", "--explain"],
    ):
        shown = _console(*args)
        expected = CliRunner().invoke(cli, args)
        assert "teardown" not in shown.stderr, args
        assert shown.returncode == expected.exit_code, args
        assert shown.stdout == expected.stdout, args  # every byte written before the process ended
    assert json.loads(_console("review", str(EXAMPLE_ZH), "--format", "json").stdout)["findings"]
    failed = _console("gate", "missing.yaml", "--to", "negotiation")
    assert failed.returncode == 3 and "missing.yaml" in failed.stderr and "teardown" not in failed.stderr


def test_a_command_that_opened_a_decision_log_or_is_not_a_per_deal_hook_exits_the_usual_way(tmp_path) -> None:
    logged = _console("review", str(EXAMPLE_EN), "--store", str(tmp_path / "log.sqlite"))
    assert logged.returncode == 0 and "logged: decision" in logged.stderr
    assert "teardown: gc True" in logged.stderr  # its connections closed as usual; collection on again after loading
    listed = _console("rules")
    assert listed.returncode == 0 and "DC101" in listed.stdout and "teardown: gc True" in listed.stderr
