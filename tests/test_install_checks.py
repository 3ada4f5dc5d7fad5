"""setup.py's early check names what building durable-rules needs and this machine lacks."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from helpers import ROOT


@pytest.fixture()
def setup_module():
    spec = importlib.util.spec_from_file_location("dealcoach_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # runs no build: setup() only runs as __main__
    return module


def test_a_machine_with_compiler_and_headers_passes(setup_module, monkeypatch) -> None:
    monkeypatch.setenv("CPPFLAGS", setup_module.PY313_DEFINE)
    monkeypatch.delenv("CC", raising=False)
    assert setup_module.build_prerequisites_missing() == []


def test_a_missing_compiler_is_named_with_the_package_that_provides_it(setup_module, monkeypatch) -> None:
    monkeypatch.setenv("CC", "no-such-cc-here")
    monkeypatch.setenv("CPPFLAGS", setup_module.PY313_DEFINE)
    [missing] = setup_module.build_prerequisites_missing()
    assert "C compiler (no-such-cc-here was not found)" in missing and "apt install gcc" in missing


def test_missing_headers_are_named(setup_module, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CPPFLAGS", setup_module.PY313_DEFINE)
    monkeypatch.setattr(setup_module.sysconfig, "get_paths", lambda **_: {"include": str(tmp_path)})
    [missing] = setup_module.build_prerequisites_missing()
    assert "headers" in missing and f"python{sys.version_info.major}.{sys.version_info.minor}-dev" in missing


def test_python_313_needs_the_define(setup_module, monkeypatch) -> None:
    monkeypatch.setenv("CPPFLAGS", "")
    monkeypatch.setattr(setup_module.sys, "version_info", (3, 13, 0))
    [missing] = setup_module.build_prerequisites_missing()
    assert "CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject" in missing


def test_the_check_stops_the_build_with_every_missing_item(setup_module, monkeypatch) -> None:
    monkeypatch.setenv("CC", "no-such-cc-here")
    monkeypatch.delenv(setup_module.SKIP_CHECK, raising=False)
    monkeypatch.setattr(setup_module, "durable_already_installed", lambda: False)
    with pytest.raises(SystemExit) as stop:
        setup_module.check_build_prerequisites()
    assert "this machine lacks" in str(stop.value) and "no-such-cc-here" in str(stop.value)
    monkeypatch.setenv(setup_module.SKIP_CHECK, "1")
    setup_module.check_build_prerequisites()  # the escape hatch for a cached wheel


def test_readme_commands_are_the_ones_ci_runs() -> None:
    first_screen = (ROOT / "README.md").read_text(encoding="utf-8").split("\n---\n", 1)[0]
    commands = [line.strip() for line in first_screen.splitlines() if line.startswith("    ")]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("--quiet ", "")
    ci = ci.replace("CPPFLAGS=$DEFINE", "CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject")
    setup_command, test_command = commands
    assert setup_command in ci
    install, _, run_tests = test_command.rpartition(" && ")
    assert install in ci and f"\n{run_tests}\n" in ci
