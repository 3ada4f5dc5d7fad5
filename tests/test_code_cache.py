"""Compiled templates kept on disk (engine.code_cache): used when nothing changed, never otherwise.

Each run is a fresh `dealcoach` process with its own cache folder, as a user's commands are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dealcoach.engine.playbook import DEFAULT_DIR
from dealcoach.engine.code_cache import CACHE_VARIABLE, CompiledTemplates, _cache_at, compiled_templates

from helpers import EXAMPLE_ZH

DEALCOACH = str(Path(sys.executable).with_name("dealcoach"))
TEMPLATE = "{% block title %}BODY{% endblock %}{% block why %}x{% endblock %}{% block action %}x{% endblock %}{% block clears %}x{% endblock %}"


def _run(cache: Path | str, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, CACHE_VARIABLE: str(cache)}
    return subprocess.run([DEALCOACH, *arguments], capture_output=True, text=True, env=environment, timeout=120, check=False)


def _compiled(cache: Path, kind: str = "templates") -> dict[str, int]:
    folder = cache / kind
    return {path.name: path.stat().st_mtime_ns for path in folder.glob("*.code")} if folder.is_dir() else {}


def test_a_second_run_renders_from_the_compiled_templates_and_says_the_same(tmp_path) -> None:
    cache = tmp_path / "cache"
    first = _run(cache, "gate", str(EXAMPLE_ZH), "--to", "bidding")
    written = _compiled(cache)
    second = _run(cache, "gate", str(EXAMPLE_ZH), "--to", "bidding")
    assert (first.returncode, first.stdout) == (second.returncode, second.stdout) and first.stdout
    assert len(written) >= 10 and _compiled(cache) == written  # the second run compiled nothing again
    assert (cache / "templates").stat().st_mode & 0o077 == 0  # private to its user
    uncached = _run("off", "gate", str(EXAMPLE_ZH), "--to", "bidding")
    assert uncached.stdout == first.stdout


def test_a_template_edited_between_runs_is_compiled_again(tmp_path) -> None:
    playbook = tmp_path / "acme"
    shutil.copytree(DEFAULT_DIR, playbook)
    template = playbook / "templates" / "findings" / "zh" / "DC102.j2"
    cache = tmp_path / "cache"
    template.write_text(TEMPLATE.replace("BODY", "第一版标题"), encoding="utf-8")
    assert "第一版标题" in _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook)).stdout
    template.write_text(TEMPLATE.replace("BODY", "第二版标题"), encoding="utf-8")
    again = _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook)).stdout
    assert "第二版标题" in again and "第一版标题" not in again


def test_a_template_read_from_the_cache_is_still_bounded(tmp_path) -> None:
    """The sandbox bounds a template's work by rewriting it before it is compiled: the compiled code kept on disk
    carries the bounds, so a template bomb fails the same way the second time."""
    playbook = tmp_path / "acme"
    shutil.copytree(DEFAULT_DIR, playbook)
    bomb = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    (playbook / "templates" / "findings" / "zh" / "DC102.j2").write_text(TEMPLATE.replace("BODY", bomb), encoding="utf-8")
    cache = tmp_path / "cache"
    runs = [_run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook)) for _ in range(2)]
    assert [run.returncode for run in runs] == [4, 4]
    assert "steps of work" in runs[1].stderr and runs[0].stderr == runs[1].stderr
    assert _compiled(cache)  # the first run did keep compiled templates (the bomb among them)


def test_code_compiled_by_another_version_or_sandbox_is_not_used(tmp_path) -> None:
    source = "{{ x }}"
    ours, other = CompiledTemplates(str(tmp_path), "1.0:sandbox-a"), CompiledTemplates(str(tmp_path), "1.0:sandbox-b")
    assert ours.get_source_checksum(source) != other.get_source_checksum(source)
    assert ours.get_source_checksum(source) == CompiledTemplates(str(tmp_path), "1.0:sandbox-a").get_source_checksum(source)


def test_a_folder_others_can_write_to_is_not_used_and_off_uses_none(tmp_path, monkeypatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert _cache_at(str(shared)) is None
    private = tmp_path / "private"
    assert _cache_at(str(private)) is not None and private.stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv(CACHE_VARIABLE, "off")
    assert compiled_templates() is None
    monkeypatch.setenv(CACHE_VARIABLE, str(private))
    assert compiled_templates() is not None


def test_the_rule_tests_are_compiled_once_and_a_damaged_copy_is_compiled_again(tmp_path) -> None:
    cache = tmp_path / "cache"
    first = _run(cache, "review", str(EXAMPLE_ZH), "--format", "json")
    kept = _compiled(cache, "rules")
    assert len(kept) >= 10  # one per fact type's tests and one per join
    second = _run(cache, "review", str(EXAMPLE_ZH), "--format", "json")
    assert second.stdout == first.stdout and _compiled(cache, "rules") == kept
    for path in (cache / "rules").glob("*.code"):
        path.write_bytes(b"not marshalled code")
    damaged = _run(cache, "review", str(EXAMPLE_ZH), "--format", "json")
    assert (damaged.returncode, damaged.stdout) == (first.returncode, first.stdout)
    assert set(_compiled(cache, "rules")) == set(kept) and _compiled(cache, "rules") != kept  # written again


def _sandbox(tmp_path, monkeypatch, html: bool):
    from dealcoach.engine.template_sandbox import PlaybookSandbox

    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "part.j2").write_text("<p>{{ name }}</p>", encoding="utf-8")
    return PlaybookSandbox([folder], html=html)


def test_an_html_template_never_reads_code_a_text_environment_compiled(tmp_path, monkeypatch) -> None:
    """jinja2 writes escaping into the compiled code: the same file compiled for text first must still escape in HTML."""
    assert _sandbox(tmp_path, monkeypatch, html=False).get_template("part.j2").render(name="<script>") == "<p><script></p>"
    assert _sandbox(tmp_path, monkeypatch, html=True).get_template("part.j2").render(name="<script>") == "<p>&lt;script&gt;</p>"


def test_a_cache_folder_that_disappears_costs_a_compile_not_a_render(tmp_path, monkeypatch) -> None:
    environment = _sandbox(tmp_path, monkeypatch, html=False)
    shutil.rmtree(tmp_path / "cache")
    assert environment.get_template("part.j2").render(name="陈国华") == "<p>陈国华</p>"


def test_without_a_home_directory_there_is_no_cache_and_no_failure(monkeypatch) -> None:
    from dealcoach.engine import code_cache

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv(CACHE_VARIABLE, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(code_cache.Path, "home", staticmethod(no_home))
    assert code_cache.cache_root() is None and compiled_templates() is None
    assert code_cache.compiled_code("x = 1", "<test>").co_filename == "<test>"


def test_the_playbook_files_are_parsed_once_and_an_edited_or_damaged_one_is_parsed_again(tmp_path) -> None:
    playbook = tmp_path / "acme"
    shutil.copytree(DEFAULT_DIR, playbook)
    cache = tmp_path / "cache"
    first = _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook), "--format", "json")
    kept = _compiled(cache, "playbooks")
    assert first.returncode == 0 and len(kept) >= 4  # playbook.yaml, the stage models, the term tables
    second = _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook), "--format", "json")
    assert second.stdout == first.stdout and _compiled(cache, "playbooks") == kept  # read back, nothing parsed again
    for path in (cache / "playbooks").glob("*.code"):
        path.write_bytes(b"not marshalled data")
    damaged = _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook), "--format", "json")
    assert damaged.stdout == first.stdout and set(_compiled(cache, "playbooks")) == set(kept)
    terms = playbook / "terms" / "zh.yaml"
    terms.write_text(terms.read_text(encoding="utf-8").replace("决策人", "拍板人"), encoding="utf-8")
    edited = _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook))
    assert "拍板人" in edited.stdout and len(_compiled(cache, "playbooks")) == len(kept) + 1
    broken = terms.read_text(encoding="utf-8") + "\nbroken: [\n"
    terms.write_text(broken, encoding="utf-8")
    for _ in range(2):  # a file that does not parse is never kept: it fails the same way every time
        failed = _run(cache, "review", str(EXAMPLE_ZH), "--playbook", str(playbook))
        assert failed.returncode != 0 and "zh.yaml" in failed.stderr and "not valid YAML" in failed.stderr


def test_only_plain_data_is_kept(tmp_path, monkeypatch) -> None:
    import datetime as dt

    from dealcoach.engine.code_cache import parsed_data

    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    parsed = []

    def parse(text: str) -> object:
        parsed.append(text)
        return {"when": dt.date(2026, 11, 24)} if text == "dated" else {"a": [1, 2.5, True, None, "文"]}

    assert parsed_data("plain", "test", parse) == parsed_data("plain", "test", parse) == {"a": [1, 2.5, True, None, "文"]}
    assert parsed == ["plain"]  # the second answer was read back
    assert parsed_data("plain", "another parser", parse) and parsed == ["plain", "plain"]
    assert parsed_data("dated", "test", parse) == parsed_data("dated", "test", parse) == {"when": dt.date(2026, 11, 24)}
    assert parsed.count("dated") == 2  # a date is not plain data: parsed every time


def test_data_shared_by_yaml_aliases_is_looked_at_once() -> None:
    """A playbook file of a few hundred bytes can alias a list ten times per level: looked at path by path, twelve
    levels are 10**12 visits; each list is looked at once."""
    import threading

    from dealcoach.engine.code_cache import _plain

    shared: list = ["x"] * 10
    for _ in range(12):
        shared = [shared] * 10
    answers: list[bool] = []
    looking = threading.Thread(target=lambda: answers.append(_plain({"bomb": shared})), daemon=True)
    looking.start()
    looking.join(timeout=20)
    assert answers == [True]
