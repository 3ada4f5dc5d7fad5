"""The command line and the pipeline under hostile conditions: broken deals in a batch, crashing workers,
overlong lines, full disks, outputs that are inputs, foreign results files, closed pipes and Ctrl-C.

Exit codes and streams are checked through the installed `dealcoach` executable where they matter.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealcoach.cli import cli
from dealcoach.engine import pipeline as pipeline_run
from dealcoach.engine.coach import Coach
from dealcoach.engine.loading import MAX_BYTES

import generated
from helpers import EXAMPLE_EN, EXAMPLE_ZH, EXAMPLES, read_yaml

DEALCOACH = str(Path(sys.executable).with_name("dealcoach"))
GOOD_LINE = json.dumps(read_yaml(EXAMPLE_EN), ensure_ascii=False)
DEEP_ENOUGH_TO_CRASH_LIBYAML = "x: " + "[" * 30000 + "]" * 30000 + "\n"


def dealcoach(*args: str, stdin: bytes = b"", **options) -> subprocess.CompletedProcess:
    return subprocess.run([DEALCOACH, *args], input=stdin, capture_output=True, timeout=180, **options)


def records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "the results end with a complete line"
    return [json.loads(line) for line in text.splitlines()]


def no_traceback(*streams: bytes | str) -> bool:
    texts = [s if isinstance(s, str) else s.decode(errors="replace") for s in streams]
    return not any("Traceback" in text or "Exception ignored" in text for text in texts)


def lines_file(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# -- one deal's failure is that deal's record ------------------------------------------


def test_a_line_with_a_lone_surrogate_gets_an_error_record_and_the_run_completes(tmp_path) -> None:
    source = lines_file(tmp_path / "deals.jsonl", [GOOD_LINE, '{"id":"\\ud800"}', GOOD_LINE])
    out = tmp_path / "out.jsonl"
    run = dealcoach("pipeline", str(source), "-o", str(out), "-j", "1", "-q", "--lang", "en")
    assert run.returncode == 6, run.stderr
    got = records(out)
    assert [r["ok"] for r in got] == [True, False, True]
    assert got[1]["source"] == f"{source}:2" and (got[1]["error"].get("problems") or got[1]["error"].get("message"))
    assert b"Deals that could not be reviewed (1)" in run.stdout and no_traceback(run.stdout, run.stderr)
    before = out.read_bytes()
    resumed = dealcoach("pipeline", str(source), "-o", str(out), "-j", "1", "-q", "--resume")
    assert resumed.returncode == 6 and out.read_bytes() == before, resumed.stderr


def test_an_unexpected_error_while_reviewing_one_deal_is_that_deal_s_internal_error_record(tmp_path, monkeypatch) -> None:
    real = Coach.review

    def review(self, deal, **options):
        if isinstance(deal, dict) and deal.get("id") == "EU-2026-112":
            raise KeyError("bug")
        return real(self, deal, **options)

    monkeypatch.setattr(Coach, "review", review)
    source = lines_file(tmp_path / "deals.jsonl", [json.dumps(read_yaml(p), ensure_ascii=False) for p in EXAMPLES])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["pipeline", str(source), "-o", str(out), "-j", "1", "-q"])
    assert result.exit_code == 6, result.output
    got = records(out)
    assert len(got) == len(EXAMPLES)
    failed = [r for r in got if not r["ok"]]
    assert [r["deal_id"] for r in failed] == ["EU-2026-112"]
    assert failed[0]["error"] == {"kind": "internal_error", "message": "KeyError: 'bug'"}


def test_a_deal_file_whose_name_is_not_utf8_is_reviewed_and_its_source_written_escaped(tmp_path) -> None:
    folder = tmp_path / "deals"
    folder.mkdir()
    shutil.copy(EXAMPLE_EN, os.path.join(os.fsencode(folder), b"\xff-deal.yaml"))
    out = tmp_path / "out.jsonl"
    run = dealcoach("pipeline", str(folder), "-o", str(out), "-j", "1", "-q")
    assert run.returncode == 0, run.stderr
    [record] = records(out)
    assert record["ok"] and record["source"] == f"{folder}/\\udcff-deal.yaml"


def test_a_results_line_never_fails_on_encoding(tmp_path) -> None:
    path = tmp_path / "out.jsonl"
    writer = pipeline_run.ResultsWriter.to_file(str(path), append=False)
    writer.write(json.dumps({"source": "a\ud800b"}, ensure_ascii=False))
    writer.close()
    assert records(path) == [{"source": "a\ud800b"}]


def test_json_lines_are_read_by_the_deal_reader_s_own_rules(tmp_path) -> None:
    """Repeated keys and non-numbers are refused in a line as in a deal file; a line is one JSON object."""
    source = lines_file(tmp_path / "deals.jsonl", ['{"id": "a", "id": "b"}', '{"amount": NaN}', "id: yaml-is-not-a-json-line", "{not json"])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["pipeline", str(source), "-o", str(out), "-j", "1", "-q"])
    assert result.exit_code == 6
    messages = [r["error"]["problems"][0]["message"] for r in records(out)]
    assert "'id' appears twice" in messages[0]
    assert "NaN" in messages[1]
    assert messages[2].startswith("malformed JSON line: each line holds one deal as a JSON object")
    assert messages[3].startswith("malformed JSON line at column 2")


# -- a directory of broken deals, and a worker that crashes -----------------------------


def broken_directory(folder: Path) -> list[str]:
    """A directory with good deals and deals broken in many ways; returns the names that make an item, in order."""
    folder.mkdir()
    files = {
        "a-good.yaml": EXAMPLE_EN.read_bytes(),
        "b-bad-tag.yaml": b"amount: !!int abc\n",
        "c-surrogate.yaml": b'name: "\\ud800"\n',
        "d-huge-int.yaml": b"amount: " + b"9" * 5000 + b"\n",
        "e-duplicate-keys.json": b'{"id": "a", "id": "b"}',
        "f-crashes-libyaml.yaml": DEEP_ENOUGH_TO_CRASH_LIBYAML.encode(),
        "h-good.yml": EXAMPLE_ZH.read_bytes(),
        "i-python-tag.yaml": b"!!python/object/apply:os.system ['true']\n",
        "j-a-list.json": b"[1, 2]",
        "k-empty.yaml": b"",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "g-folder.jsonl").mkdir()
    (folder / "g-folder.yaml").mkdir()
    (folder / "notes.txt").write_text("not a deal", encoding="utf-8")
    return sorted(files)


def test_a_directory_of_broken_deals_gives_one_record_each_even_when_a_worker_crashes(tmp_path) -> None:
    folder = tmp_path / "deals"
    names = broken_directory(folder)
    out = tmp_path / "out.jsonl"
    run = dealcoach("pipeline", str(folder), "-o", str(out), "--jobs", "2", "-q", "--lang", "en")
    assert run.returncode == 6, run.stderr
    got = records(out)
    assert [r["source"] for r in got] == [str(folder / name) for name in names]
    assert {r["source"].rsplit("/", 1)[1] for r in got if r["ok"]} == {"a-good.yaml", "h-good.yml"}
    assert all(r["error"].get("problems") or r["error"].get("message") for r in got if not r["ok"])
    stderr = run.stderr.decode()
    assert f"note: skipped {folder}/g-folder.jsonl: a directory, not a deal file" in stderr
    assert f"note: skipped {folder}/g-folder.yaml: a directory" in stderr
    assert no_traceback(run.stdout, run.stderr)


class _KillsItsProcess:
    """Unpickled in a worker, ends that process at once, as a segfault in a C library would."""

    def __reduce__(self):
        return (os._exit, (70,))


def test_a_crashing_worker_costs_only_the_deal_that_crashed_it() -> None:
    items = [pipeline_run.Item(str(p), read_yaml(p)) for p in EXAMPLES]
    items[1:1] = [pipeline_run.Item("crash-1", _KillsItsProcess())]
    items[6:6] = [pipeline_run.Item("crash-2", _KillsItsProcess())]
    results = list(pipeline_run.review_all(items, jobs=2, chunk_size=2))
    expected = list(pipeline_run.review_all([i for i in items if not i.source.startswith("crash")], jobs=1))
    assert [r for r in results if r.ok] == expected
    crashed = [json.loads(r.line) for r in results if not r.ok]
    assert [(r["source"], r["error"]["kind"]) for r in crashed] == [("crash-1", "internal_error"), ("crash-2", "internal_error")]
    assert "crashed" in crashed[0]["error"]["message"]
    assert [json.loads(r.line)["source"] for r in results] == [i.source for i in items]


# -- overlong lines are skipped without being held --------------------------------------


def test_an_overlong_line_is_skipped_without_holding_it(tmp_path) -> None:
    source = tmp_path / "big.jsonl"
    long = 12 * MAX_BYTES
    with source.open("wb") as handle:
        handle.write(GOOD_LINE.encode() + b"\n" + b"x" * long + b"\n" + GOOD_LINE.encode() + b"\n" + b"y" * (MAX_BYTES + 5))
    tracemalloc.start()
    try:
        items = list(pipeline_run.read_inputs(str(source)))
        counted = pipeline_run.count_inputs(str(source))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_BYTES, f"{peak} bytes held to read a {long}-byte line"
    assert len(items) == 4 == counted and items[0].line and items[2].line
    assert items[1].error.problems[0].message == f"line is {long} bytes; the limit is {MAX_BYTES}"
    assert items[3].error.problems[0].message == f"line is {MAX_BYTES + 5} bytes; the limit is {MAX_BYTES}"


# -- output that cannot be written ------------------------------------------------------

full_disk = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@full_disk
@pytest.mark.parametrize(
    "args, to_stdout, target",
    [
        (["pipeline", "{deals}", "-o", "/dev/full", "-j", "1", "-q"], False, "/dev/full"),
        (["pipeline", "{deals}", "-o", "/dev/full", "-j", "2", "-q"], False, "/dev/full"),
        (["pipeline", "{deals}", "-j", "1", "-q"], True, "standard output"),
        (["review", str(EXAMPLE_ZH)], True, "standard output"),
        (["gate", str(EXAMPLE_ZH), "--to", "proposal"], True, "standard output"),
        (["rules"], True, "standard output"),
        (["brief", str(EXAMPLE_ZH), "-a", "zhao", "--date", "2026-11-25", "--purpose", "negotiation", "-o", "/dev/full"], False, "/dev/full"),
    ],
    ids=["pipeline-o", "pipeline-o-jobs2", "pipeline-stdout", "review", "gate", "rules", "brief-o"],
)
def test_a_full_disk_is_exit_7_naming_the_output(tmp_path, args: list[str], to_stdout: bool, target: str) -> None:
    deals = lines_file(tmp_path / "deals.jsonl", [json.dumps(read_yaml(p), ensure_ascii=False) for p in EXAMPLES])
    command = [a.replace("{deals}", str(deals)) for a in args]
    with open("/dev/full", "wb") as full:
        run = subprocess.run([DEALCOACH, *command], stdin=subprocess.DEVNULL, stdout=full if to_stdout else subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=180)
    assert run.returncode == 7, run.stderr
    assert f"Error: cannot write to {target}: No space left on device" in run.stderr.decode()
    assert no_traceback(run.stderr)


def _file_size_limit(room: int):
    """For preexec_fn: writing a file past `room` bytes fails with EFBIG ("File too large"), as a full disk fails."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return limit


def test_a_review_that_does_not_fit_is_exit_7_never_a_silently_cut_text(tmp_path) -> None:
    with (tmp_path / "review.txt").open("wb") as target:
        run = subprocess.run([DEALCOACH, "review", str(EXAMPLE_ZH)], stdin=subprocess.DEVNULL, stdout=target, stderr=subprocess.PIPE,
                             preexec_fn=_file_size_limit(3000), timeout=180)
    assert run.returncode == 7 and "Error: cannot write to standard output: File too large" in run.stderr.decode()
    assert no_traceback(run.stderr)


def test_a_results_file_that_fills_up_keeps_complete_lines_and_resumes(tmp_path) -> None:
    source = lines_file(tmp_path / "deals.jsonl", [json.dumps(read_yaml(p), ensure_ascii=False) for p in EXAMPLES])
    out = tmp_path / "out.jsonl"
    room = 100_000
    run = dealcoach("pipeline", str(source), "-o", str(out), "-j", "1", "-q", preexec_fn=_file_size_limit(room))
    assert run.returncode == 7, run.stderr
    assert f"Error: cannot write to {out}: File too large" in run.stderr.decode() and no_traceback(run.stderr)
    kept = records(out)  # complete lines only
    assert 0 < len(kept) < len(EXAMPLES) and out.stat().st_size <= room
    resumed = dealcoach("pipeline", str(source), "-o", str(out), "-j", "1", "-q", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert [r["source"] for r in records(out)] == [f"{source}:{n}" for n in range(1, len(EXAMPLES) + 1)]


def test_a_brief_that_cannot_be_written_leaves_the_old_file(tmp_path) -> None:
    target = tmp_path / "brief.md"
    target.write_text("last week's brief", encoding="utf-8")
    run = dealcoach("brief", str(EXAMPLE_ZH), "-a", "zhao", "--date", "2026-11-25", "--purpose", "negotiation", "-o", str(target),
                    preexec_fn=_file_size_limit(100))
    assert run.returncode == 7 and f"cannot write to {target}: File too large" in run.stderr.decode()
    assert target.read_text(encoding="utf-8") == "last week's brief" and [p.name for p in tmp_path.iterdir()] == ["brief.md"]


# -- an output that is an input ------------------------------------------------------------


def _links(tmp_path: Path, kind: str) -> tuple[list[str], Path]:
    """A pipeline command whose output would overwrite or be read as its input, and the input file to check."""
    deals = lines_file(tmp_path / "deals.jsonl", [GOOD_LINE])
    if kind == "same":
        return ["pipeline", str(deals), "-o", str(deals)], deals
    if kind == "symlink":
        (tmp_path / "link.jsonl").symlink_to(deals)
        return ["pipeline", str(deals), "-o", str(tmp_path / "link.jsonl")], deals
    if kind == "hardlink":
        os.link(deals, tmp_path / "hard.jsonl")
        return ["pipeline", str(deals), "-o", str(tmp_path / "hard.jsonl")], deals
    if kind == "summary":
        return ["pipeline", str(deals), "-o", str(tmp_path / "out.jsonl"), "--summary", str(deals)], deals
    folder = tmp_path / "deals"
    folder.mkdir()
    shutil.copy(EXAMPLE_EN, folder / "a.yaml")
    if kind == "inside-directory":
        return ["pipeline", str(folder), "-o", str(folder / "results.jsonl")], folder / "a.yaml"
    if kind == "file-of-directory":
        return ["pipeline", str(folder), "-o", str(folder / "a.yaml")], folder / "a.yaml"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["same", "symlink", "hardlink", "summary", "inside-directory", "file-of-directory"])
def test_an_output_that_is_an_input_is_refused_before_anything_is_written(tmp_path, kind: str) -> None:
    args, guarded = _links(tmp_path, kind)
    before = sorted(p.name for p in tmp_path.rglob("*")), guarded.read_bytes()
    result = CliRunner().invoke(cli, [*args, "-j", "1", "-q"])
    assert result.exit_code == 2, result.output
    assert args[1] in result.output and (args[-1] in result.output or args[3] in result.output)
    assert (sorted(p.name for p in tmp_path.rglob("*")), guarded.read_bytes()) == before


def test_an_output_in_the_input_directory_not_named_like_a_deal_is_allowed(tmp_path) -> None:
    folder = tmp_path / "deals"
    folder.mkdir()
    shutil.copy(EXAMPLE_EN, folder / "a.yaml")
    result = CliRunner().invoke(cli, ["pipeline", str(folder), "-o", str(folder / "results.out"), "-j", "1", "-q"])
    assert result.exit_code == 0 and len(records(folder / "results.out")) == 1


def test_a_brief_over_its_own_deal_file_is_refused(tmp_path) -> None:
    deal = tmp_path / "deal.yaml"
    shutil.copy(EXAMPLE_ZH, deal)
    result = CliRunner().invoke(cli, ["brief", str(deal), "-a", "zhao", "--date", "2026-11-25", "--purpose", "negotiation", "-o", str(deal)])
    assert result.exit_code == 2 and f"--output {deal} is the deal file {deal}" in result.output
    assert deal.read_bytes() == EXAMPLE_ZH.read_bytes()


# -- earlier results that are not results ---------------------------------------------------


@pytest.mark.parametrize(
    "content, line, complaint",
    [
        ('{"a": 1}\n', 1, "has no 'source'"),
        ('{"source": "x", "ok": true, "report": {}}\n', 1, "has no 'deal_id'"),
        ('{"source": "x", "ok": false, "error": {"kind": "invalid_deal", "problems": []}}\n[1]\n', 2, "a JSON list, not an object"),
        ('{"source": "x", "ok": false, "error": {"kind": "invalid_deal", "problems": []}}\nnot json\n{"source": "y"}\n', 2, "not JSON"),
        ('{"source": "x", "deal_id": "x", "ok": true, "report": {"deal_id": "x"}}\n', 1, "its report is not one dealcoach wrote"),
    ],
    ids=["no-source", "no-deal-id", "a-list", "not-json", "foreign-report"],
)
@pytest.mark.parametrize("option", ["--resume", "--previous"])
def test_earlier_results_that_are_not_results_are_a_usage_error_naming_the_line(tmp_path, content, line, complaint, option) -> None:
    source = lines_file(tmp_path / "deals.jsonl", [GOOD_LINE])
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text(content, encoding="utf-8")
    args = ["-o", str(earlier), "--resume"] if option == "--resume" else ["-o", str(tmp_path / "out.jsonl"), "--previous", str(earlier)]
    result = CliRunner().invoke(cli, ["pipeline", str(source), *args, "-j", "1", "-q"])
    assert result.exit_code == 2, result.output
    assert f"{earlier}, line {line}: {complaint}" in result.output and "expected a result record written by `dealcoach pipeline`" in result.output
    assert earlier.read_text(encoding="utf-8") == content


# -- a closed pipe, and Ctrl-C -------------------------------------------------------------------


def _read_a_line_then_close(args: list[str], stderr_closed: bool = False) -> tuple[int, bytes, bytes]:
    """Run dealcoach into a one-page pipe, read its first line and close the pipe, as `| head -1` does."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([DEALCOACH, *args], stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    first = b""
    while not first.endswith(b"\n") and (byte := os.read(read_end, 1)):
        first += byte
    os.close(read_end)
    return proc.wait(timeout=180), first, proc.stderr.read()


@pytest.mark.parametrize(
    "args",
    [["rules", "--format", "json"], ["review", str(EXAMPLE_ZH), "--all", "--explain"], ["pipeline", "{deals}", "-j", "1", "-q"]],
    ids=["rules", "review", "pipeline"],
)
def test_a_reader_that_stops_early_ends_dealcoach_quietly_with_141(tmp_path, args: list[str]) -> None:
    deals = lines_file(tmp_path / "deals.jsonl", [json.dumps(read_yaml(p), ensure_ascii=False) for p in EXAMPLES])
    code, first, stderr = _read_a_line_then_close([a.replace("{deals}", str(deals)) for a in args])
    assert first and code == 141 and stderr == b"", stderr


def test_a_closed_stderr_ends_dealcoach_quietly_with_141(tmp_path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    run = subprocess.run([DEALCOACH, "review", str(bad)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=write_end, timeout=180)
    os.close(write_end)
    assert run.returncode == 141 and run.stdout == b""


def test_ctrl_c_while_arguments_are_parsed_is_130_not_click_s_aborted(monkeypatch) -> None:
    def interrupted(self, ctx, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(cli), "parse_args", interrupted)
    result = CliRunner().invoke(cli, ["gate", str(EXAMPLE_ZH), "--to", "proposal"])
    assert result.exit_code == 130 and "interrupted" in result.stderr and "Aborted!" not in result.output


def _reading_stdin(pid: int) -> bool:
    """Whether the process is blocked in read(0, ...) (Linux /proc/PID/syscall)."""
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()[:2] == ["0", "0x0"]
    except OSError:
        pytest.skip("/proc/PID/syscall is not readable here")


def _wait_until(condition, what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("args", [["gate", "-", "--to", "proposal"], ["review", "-"]], ids=["gate", "review"])
def test_ctrl_c_while_reading_stdin_is_130_and_interrupted(args: list[str]) -> None:
    proc = subprocess.Popen([DEALCOACH, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_until(lambda: _reading_stdin(proc.pid), "dealcoach to read its standard input")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and stderr == b"interrupted\n" and stdout == b""


def _importing_workers(pid: int) -> list[int]:
    """The worker processes of `pid` that run Python but have not finished starting: Python has installed its
    Ctrl-C handler (SigCgt in /proc/PID/status), the worker's start-up code has not yet replaced it."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat_file.read_text().rsplit(")", 1)[1].split()[1]) != pid:
                continue
            if "spawn_main" not in (stat_file.parent / "cmdline").read_bytes().decode(errors="replace"):
                continue
            status = dict(line.split(":", 1) for line in (stat_file.parent / "status").read_text().splitlines() if ":" in line)
            if int(status["SigCgt"], 16) & 1 << (signal.SIGINT - 1):
                found.append(int(stat_file.parent.name))
        except (OSError, IndexError, ValueError, KeyError):
            continue
    return found


def _many_deals(path: Path, count: int) -> Path:
    return lines_file(path, [json.dumps(d, ensure_ascii=False) for d in generated.deals(count)])


def _terminal_ctrl_c(proc: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C as a terminal sends it: to the whole process group, the workers included."""
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr.decode()


def test_ctrl_c_during_a_pipeline_keeps_complete_lines_hints_at_resume_and_resume_finishes(tmp_path) -> None:
    source = _many_deals(tmp_path / "deals.jsonl", 200)
    out = tmp_path / "out.jsonl"
    command = [DEALCOACH, "pipeline", str(source), "-o", str(out), "--jobs", "2", "-q"]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_until(lambda: out.exists() and b"\n" in out.read_bytes()[:200_000], "the first result")
        code, stderr = _terminal_ctrl_c(proc)
    finally:
        proc.kill()
    assert code == 130, stderr
    written = len(records(out))
    noun = "result" if written == 1 else "results"  # a fast machine may be stopped after the first line
    assert f"interrupted: {written} complete {noun} written to {out}; to review the rest, run the same command with --resume" in stderr
    assert no_traceback(stderr) and 0 < written < 200
    resumed = subprocess.run([*command, "--resume"], capture_output=True, timeout=180)
    assert resumed.returncode in (0, 6), resumed.stderr
    assert [r["source"] for r in records(out)] == [f"{source}:{n}" for n in range(1, 201)]


def test_ctrl_c_while_the_workers_start_leaves_no_traceback(tmp_path) -> None:
    source = _many_deals(tmp_path / "deals.jsonl", 50)
    proc = subprocess.Popen([DEALCOACH, "pipeline", str(source), "-o", str(tmp_path / "out.jsonl"), "--jobs", "2", "-q"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_until(lambda: _importing_workers(proc.pid), "a worker process starting")
        code, stderr = _terminal_ctrl_c(proc)
    finally:
        proc.kill()
    assert code == 130 and stderr.startswith("interrupted") and no_traceback(stderr), stderr


# -- generated batches -------------------------------------------------------------------------------
# Each entry: the bytes of a JSON line (or of a deal file) and whether it must be reviewed (True),
# must fail (False) or may do either (None).

_VALID_DEALS = [read_yaml(p) for p in EXAMPLES]


def _generated_deal(seed: int) -> dict:
    return generated.deal(random.Random(seed), seed)


BOM_LINE = b"\xef\xbb\xbf" + GOOD_LINE.encode()
_valid_deal = st.one_of(st.sampled_from(_VALID_DEALS), st.integers(0, 10_000).map(_generated_deal))
_garbage = st.binary(max_size=300).map(lambda b: b.replace(b"\n", b""))
_nested = st.integers(1, 20_000).map(lambda n: b'{"a": ' + b"[" * n + b"]" * n + b"}")

LINES = st.one_of(
    _valid_deal.map(lambda d: (json.dumps(d, ensure_ascii=False).encode(), True)),
    _valid_deal.map(lambda d: (json.dumps(d).encode() + b"\r", True)),  # CRLF, \u-escaped
    st.sampled_from([
        (b'{"id": "\\ud800", "name": "x"}', False),
        (b'{"id": "a", "id": "b"}', False),
        (b'{"amount": NaN}', False),
        (b'{"amount": ' + b"9" * 5000 + b"}", False),
        (b"[1, 2]", False), (b'"deal"', False), (b"42", False), (b"null", False),
        (BOM_LINE, False),  # a BOM is allowed only at the start of the file
        (b"id: x", False),
        (b"", None), (b"   ", None), (b"\t\r", None),  # blank: no item
    ]),
    _valid_deal.map(lambda d: (json.dumps({**d, "amount": 1e400}).encode(), None)),
    _valid_deal.map(lambda d: (json.dumps({k: v for k, v in d.items() if k != "as_of"}, ensure_ascii=False).encode(), False)),
    _nested.map(lambda line: (line, False)),
    _garbage.map(lambda line: (line, None)),
)
HUGE_LINE = (b"x" * (MAX_BYTES + 1), False)

DEAL_FILES = st.one_of(
    _valid_deal.map(lambda d: (".yaml", yaml.safe_dump(d, allow_unicode=True).encode(), True)),
    _valid_deal.map(lambda d: (".json", json.dumps(d, ensure_ascii=False).encode(), True)),
    _valid_deal.map(lambda d: (".yml", b"\xef\xbb\xbf" + yaml.safe_dump(d, allow_unicode=True).encode(), True)),
    _valid_deal.map(lambda d: (".yaml", "\ufeff".encode("utf-16-le") + yaml.safe_dump(d, allow_unicode=True).encode("utf-16-le"), True)),
    st.sampled_from([
        (".yaml", b"amount: !!int abc\n", False),
        (".yaml", b"amount: !!float abc\n", False),
        (".yaml", b"a: !!binary '%%%'\n", False),
        (".yaml", b"a: !!timestamp x\n", False),
        (".yaml", b"a: !custom x\n", False),
        (".yaml", b"!!python/object/apply:os.system ['true']\n", False),
        (".yaml", b'name: "\\ud800"\n', False),
        (".yaml", b"a: 1\na: 2\n", False),
        (".yaml", b"a: &x [1]\nb: *x\n", False),
        (".yaml", b"", False),
        (".json", b'{"id": "a", "id": "b"}', False),
        (".yaml", b"amount: " + b"9" * 5000 + b"\n", False),
    ]),
    st.integers(1, 2000).map(lambda n: (".yaml", b"x: " + b"[" * n + b"]" * n + b"\n", False)),
    _garbage.map(lambda data: (".yaml", data, False)),
    st.lists(LINES, max_size=3).map(lambda lines: (".jsonl", lines, None)),
    st.sampled_from([(".yaml", "directory", None), (".jsonl", "directory", None), (".txt", b"notes", None)]),
)


def _write_lines(path: Path, lines: list[tuple[bytes, bool | None]], bom: bool = False) -> list[tuple[str, bool | None]]:
    """Write the lines; the (source, expected ok) of each line that makes an item."""
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"".join(line + b"\n" for line, _ in lines))
    expected = []
    for number, (line, ok) in enumerate(lines, 1):
        if line == BOM_LINE and number == 1 and not bom:
            ok = True  # then it is the file's BOM
        try:
            blank = not line.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            expected.append((f"{path}:{number}", ok))
    return expected


def _check_run(result, out: Path, expected: list[tuple[str, bool | None]]) -> None:
    """Exactly one valid record per input item, in order, each a review or an error naming its source; exit 0 or 6."""
    got = records(out)
    assert [r["source"] for r in got] == [source for source, _ in expected]
    for record, (_, ok) in zip(got, expected, strict=True):
        if record["ok"]:
            assert ok is not False and record["report"]["deal_id"] == record["deal_id"]
        else:
            assert ok is not True, record
            error = record["error"]
            assert error["kind"] and (error.get("message") or error.get("problems")), record
    assert result.exit_code == (6 if any(not r["ok"] for r in got) else 0), result.output
    assert "Traceback" not in result.output


_batch_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_batch_settings
@given(lines=st.lists(LINES, max_size=10), bom=st.booleans(), huge=st.integers(0, 20))
def test_generated_json_lines_give_one_record_per_line_in_order(lines, bom: bool, huge: int) -> None:
    if huge == 0:
        lines = [*lines, HUGE_LINE]
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "deals.jsonl", Path(folder) / "out.jsonl"
        expected = _write_lines(source, lines, bom)
        result = CliRunner().invoke(cli, ["pipeline", str(source), "-o", str(out), "-j", "1", "-q"])
        _check_run(result, out, expected)


def _write_directory(folder: Path, entries) -> list[tuple[str, bool | None]]:
    folder.mkdir()
    expected = []
    for index, (suffix, content, ok) in enumerate(entries):
        path = folder / f"{index:02d}-deal{suffix}"
        if content == "directory":
            path.mkdir()
        elif suffix == ".jsonl":
            expected += _write_lines(path, content)
        else:
            path.write_bytes(content)
            if suffix != ".txt":
                expected.append((str(path), ok))
    return expected


@_batch_settings
@given(entries=st.lists(DEAL_FILES, max_size=8))
def test_generated_directories_give_one_record_per_deal_in_order(entries) -> None:
    with tempfile.TemporaryDirectory() as root:
        expected = _write_directory(Path(root) / "deals", entries)
        out = Path(root) / "out.jsonl"
        result = CliRunner().invoke(cli, ["pipeline", str(Path(root) / "deals"), "-o", str(out), "-j", "1", "-q"])
        _check_run(result, out, expected)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(entries=st.lists(DEAL_FILES, min_size=3, max_size=12), crash_at=st.integers(0, 12))
def test_generated_directories_with_two_workers_and_a_crashing_deal(entries, crash_at: int) -> None:
    entries = list(entries)
    entries.insert(min(crash_at, len(entries)), (".yaml", DEEP_ENOUGH_TO_CRASH_LIBYAML.encode(), False))
    with tempfile.TemporaryDirectory() as root:
        expected = _write_directory(Path(root) / "deals", entries)
        out = Path(root) / "out.jsonl"
        result = CliRunner().invoke(cli, ["pipeline", str(Path(root) / "deals"), "-o", str(out), "-j", "2", "-q"])
        _check_run(result, out, expected)
