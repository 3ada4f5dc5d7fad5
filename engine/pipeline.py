"""Reviewing many deals: read every input, review in worker processes, yield one result per deal in order.

Inputs are a directory of deal files, a JSON-Lines file (one deal per line),
a single deal file, or standard input (JSON Lines). Whatever goes wrong with
one deal — it cannot be read, it does not validate, its review fails, even
the worker process reviewing it crashes — gives that deal an error record
naming it; the others are reviewed. Each worker process builds the rule set
once.
"""

from __future__ import annotations

import codecs
import json
import multiprocessing
import os
import signal
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from .errors import DealcoachError, DealInputError, InputProblem
from .loading import MAX_BYTES, deal_document, open_for_reading, parse_text, read_document
from .rollup import Digest, FailedDeal

DEAL_SUFFIXES = (".yaml", ".yml", ".json")
LINES_SUFFIXES = (".jsonl", ".ndjson")
_BLOCK = 1 << 20  # bytes read at a time where a line's length is not bounded
MAX_RESULT_LINE_BYTES = 16 * MAX_BYTES  # a result line holds a whole report, so it may be longer than a deal
CRASHED = "the process reviewing this deal crashed (a bug in dealcoach or a library it uses; please report it)"


def printable(text: str) -> str:
    """`text` with any unpaired surrogate (from an undecodable file name, say) written as an escape, so it can be encoded."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Item:
    """One deal to review: where it came from, and its document — parsed, as a JSON line, or as a file to read.

    Lines and files are parsed by the worker that reviews them, so the parent
    process only hands out text.
    """

    source: str
    document: Any = None
    line: str | None = None
    path: str | None = None
    error: DealInputError | None = None
    deal_id: str | None = None  # known before parsing (a CRM record that could not be converted)

    def parsed(self) -> Any:
        """The deal document, or DealInputError."""
        if self.error is not None:
            raise self.error
        if self.line is not None:
            return _json_line(self.line, self.source)
        if self.path is not None:
            return read_document(self.path)
        return self.document


def _json_line(line: str, source: str) -> Any:
    """One JSON Lines line, parsed by the deal reader's own JSON rules (repeated keys, constants, depth, number size)."""
    if not line.lstrip().startswith("{"):
        raise DealInputError(source, [InputProblem("", "malformed JSON line: each line holds one deal as a JSON object, {...}")])
    try:
        return parse_text(line, source)
    except DealInputError as error:
        problems = [InputProblem(p.path, p.message.replace("malformed JSON at line 1, ", "malformed JSON line at ", 1)) for p in error.problems]
        raise DealInputError(source, problems) from None


def _lines(stream: BinaryIO, label: str) -> Iterator[Item]:
    """One item per non-blank line, read lazily. No more than one deal file's size limit is held at a time:
    a longer line is skipped to its end and gets an error item."""
    number = 0
    while raw := stream.readline(MAX_BYTES + 1):
        number += 1
        source = f"{label}:{number}"
        if len(raw) > MAX_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while not raw.endswith(b"\n") and (raw := stream.readline(_BLOCK)):
                size += len(raw)
            size -= 1 if raw.endswith(b"\n") else 0
            yield Item(source, error=DealInputError(source, [InputProblem("", f"line is {size} bytes; the limit is {MAX_BYTES}")]))
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Item(source, error=DealInputError(source, [InputProblem("", f"not valid UTF-8 text at byte {error.start}")]))
            continue
        if line.strip():
            yield Item(source, line=line)


def _directory(path: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The deal and JSON-Lines files in a directory, by name, and the entries with such a name that are not files."""
    files, skipped = [], []
    for entry in sorted(path.iterdir()):
        if entry.suffix.lower() not in DEAL_SUFFIXES + LINES_SUFFIXES:
            continue
        if entry.is_file():
            files.append(entry)
        else:
            skipped.append((entry, "a directory, not a deal file" if entry.is_dir() else "not a regular file"))
    return files, skipped


def skipped(source: str) -> list[tuple[str, str]]:
    """Entries of the input directory named like deal files that are not files (e.g. a subdirectory `x.yaml`), with why."""
    if source == "-" or not Path(source).is_dir():
        return []
    try:
        return [(printable(str(entry)), reason) for entry, reason in _directory(Path(source))[1]]
    except OSError:
        return []


def read_inputs(source: str) -> Iterator[Item]:
    """Every deal in `source`, in a stable order (directory: by file name; lines: as written)."""
    if source == "-":
        if sys.stdin is None:
            yield Item("<stdin>", error=DealInputError("<stdin>", [InputProblem("", "standard input is closed: give a file or a directory")]))
            return
        yield from _lines(sys.stdin.buffer, "<stdin>")
        return
    path, label = Path(source), printable(source)
    if path.is_dir():
        try:
            files, _ = _directory(path)
        except OSError as error:
            yield Item(label, error=DealInputError(label, [InputProblem("", f"cannot read the directory: {error.strerror}")]))
            return
        for file in files:
            yield from read_inputs(str(file))
        return
    if path.suffix.lower() in LINES_SUFFIXES:
        try:
            handle = open_for_reading(path)
        except OSError as error:
            yield Item(label, error=DealInputError(label, [InputProblem("", f"cannot read the file: {error.strerror}")]))
            return
        with handle:
            yield from _lines(handle, label)
        return
    yield Item(label, path=source)


def read_converted(source: str, convert: Callable[[Any, str], Iterable[Item]]) -> Iterator[Item]:
    """The deals of inputs that are not deal files (CRM query responses): each file, or each JSON line, of
    `source` is parsed here and handed to `convert`, which gives one item per record it holds; an input that
    cannot be read or converted as a whole is one error item."""
    for item in read_inputs(source):
        if item.error is not None:
            yield item
            continue
        try:
            data = item.parsed()
            converted = list(convert(data, item.source))
        except DealInputError as error:
            yield Item(item.source, error=error)
            continue
        yield from converted


def count_inputs(source: str) -> int | None:
    """How many deals `source` holds, when that is cheap to know (for a progress bar); lines are counted a block at a time."""
    if source == "-":
        return None
    path = Path(source)
    try:
        files = _directory(path)[0] if path.is_dir() else [path]
        return sum(_count_lines(file) if file.suffix.lower() in LINES_SUFFIXES else 1 for file in files)
    except OSError:
        return None


def _count_lines(path: Path) -> int:
    total, open_line = 0, False
    with open_for_reading(path) as handle:
        while block := handle.read(_BLOCK):
            *complete, rest = block.split(b"\n")
            for piece in complete:
                total += 1 if open_line or piece.strip() else 0
                open_line = False
            open_line = open_line or bool(rest.strip())
    return total + (1 if open_line else 0)


def reads(source: str, target: str) -> bool:
    """Whether writing the file `target` would change one of the inputs `source` names: it is one of them
    (also through a symbolic or hard link), or it would be created inside the input directory with a deal file's name."""
    if source == "-":
        return False
    given, written = Path(source), Path(target)
    try:
        if not given.is_dir():
            return written.exists() and os.path.samefile(given, written)
        if written.exists() and any(os.path.samefile(file, written) for file in _directory(given)[0]):
            return True
        resolved = written.resolve()
        return (
            resolved.suffix.lower() in DEAL_SUFFIXES + LINES_SUFFIXES and resolved.parent.is_dir() and os.path.samefile(resolved.parent, given)
        )
    except OSError:
        return False


# -- the work each process does --------------------------------------------------

_worker_coach: Any = None  # engine.coach.Coach, built once per process
_worker_lang: str | None = None
_worker_keeps_deals = False  # send back each deal as evaluated (the decision log needs it)


def _init_worker(playbook_dir: str | None, lang: str | None, in_pool: bool = False, keep_deals: bool = False) -> None:
    """Load the playbook and compile the rule set once per process."""
    global _worker_coach, _worker_lang, _worker_keeps_deals
    from . import api
    from .evaluation import compiled

    if in_pool:  # Ctrl-C is the parent's to handle: it keeps every result already written
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held while this process started (_sigint_held)
        _exit_with_parent()
    _worker_coach = api.coach(playbook_dir)
    _worker_lang = lang
    _worker_keeps_deals = keep_deals
    compiled(_worker_coach.rulebook, _worker_coach.playbook.thresholds)


def _exit_with_parent() -> None:
    """A worker whose parent was killed (SIGKILL leaves no chance to stop the pool) exits within a second."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def review_item(item: Item) -> dict:
    """One result record: the report as JSON data, or an error naming the deal and what went wrong.

    Nothing raised while reviewing one deal escapes: bad input is an `invalid_deal`
    error, anything else an `internal_error` with the exception's type and message.
    """
    return _review(item)[0]


def _review(item: Item) -> tuple[dict, Any]:
    """The result record, and the deal as evaluated (a validated Deal) when this worker keeps deals."""
    deal_id = item.deal_id
    try:
        document = item.parsed()
        deal_id = document.get("id") if isinstance(document, dict) else None
        deal = _worker_coach.deal(deal_document(document, item.source)) if _worker_keeps_deals else None
        report = _worker_coach.review(deal if deal is not None else deal_document(document, item.source))
        if _worker_lang is not None:
            report = _worker_coach.localise(report, _worker_lang)
        return {"source": item.source, "deal_id": report.deal_id, "ok": True, "report": report.model_dump(mode="json")}, deal
    except Exception as error:  # noqa: BLE001 - one deal's failure is its record, never the run's
        return _error_record(item.source, deal_id, error), None


def _error_record(source: str, deal_id: Any, error: Exception) -> dict:
    record = {"source": printable(source), "deal_id": printable(deal_id) if isinstance(deal_id, str) else None, "ok": False}
    if isinstance(error, DealInputError):
        problems = [{"path": printable(p.path), "message": printable(p.message)} for p in error.problems]
        record["error"] = {"kind": "invalid_deal", "problems": problems}
    elif isinstance(error, DealcoachError):
        record["error"] = {"kind": type(error).__name__, "message": printable(str(error))}
    else:
        record["error"] = {"kind": "internal_error", "message": printable(f"{type(error).__name__}: {error}")}
    return record


def default_jobs() -> int:
    """The machine's cores available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class Logged:
    """What the decision log keeps of a reviewed deal besides its digest (sent back only when a log is written):
    the deal as evaluated, and each finding's (code, kind, severity, rank, subject, folded)."""

    deal: dict
    findings: tuple[tuple[str, str, str, int | None, str | None, bool], ...]
    ruleset_version: str


@dataclass(frozen=True)
class Result:
    """One deal's outcome: the JSON line to write, the digest the roll-up needs, and for the decision log what it keeps."""

    line: str
    digest: Digest | FailedDeal
    ok: bool
    logged: Logged | None = None


def digest(record: dict) -> Digest | FailedDeal:
    """The part of a result record the roll-up reads: the typed digest of the report, or the failure."""
    if not record["ok"]:
        error = record.get("error", {})
        problems = [f"{p['path'] or '(deal)'}: {p['message']}" for p in error.get("problems", [])] or [error.get("message", "")]
        return FailedDeal(source=record["source"], deal_id=record.get("deal_id"), problems=problems)
    return Digest.model_validate(record["report"])


def review_to_result(item: Item) -> Result:
    """The result of one deal, as a line that is always valid JSON (numbers JSON cannot hold make an error record)."""
    record, deal = _review(item)
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        return Result(line, digest(record), record["ok"], _logged(record, deal) if deal is not None else None)
    except (ValueError, ValidationError) as error:
        record = _error_record(item.source, record.get("deal_id"), error)
        return Result(json.dumps(record, ensure_ascii=False), digest(record), False)


def _logged(record: dict, deal: Any) -> Logged:
    report = record["report"]
    findings = tuple(
        (f["code"], f["kind"], f["severity"], f.get("rank"), f.get("subject"), bool(f.get("folded"))) for f in report["findings"]
    )
    return Logged(deal.model_dump(mode="json", exclude_none=True), findings, report["ruleset_version"])


def _crashed(item: Item) -> Result:
    record = {"source": item.source, "deal_id": None, "ok": False, "error": {"kind": "internal_error", "message": CRASHED}}
    return Result(json.dumps(record, ensure_ascii=False), digest(record), False)


def _review_chunk(items: list[Item]) -> list[Result]:
    return [review_to_result(item) for item in items]


def _ready() -> bool:
    return True


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back until the block ends, when this process gets it. Around starting worker processes:
    they inherit the signal mask, so a Ctrl-C arriving while they import is never theirs (they ignore it once
    running). Around writing a result: the count of lines written is then exact."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: nothing to hold
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_pool(jobs: int, initargs: tuple) -> ProcessPoolExecutor:
    resource_tracker.ensure_running()  # started now: starting it while workers start would release Ctrl-C (_sigint_held)
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=initargs)


class _Workers:
    """Worker processes that outlive a crash. When one dies (a segfault in a C library, say), every deal that
    was in flight is reviewed again one at a time in a fresh process, so only the deal that crashed it gets
    an error record; then a fresh pool takes the rest."""

    def __init__(self, jobs: int, initargs: tuple):
        self.jobs = jobs
        self.initargs = initargs
        self.executor: ProcessPoolExecutor | None = None

    def submit(self, chunk: list[Item]) -> Future:
        if self.executor is None:
            self.executor = _start_pool(self.jobs, self.initargs)
        try:
            with _sigint_held():
                return self.executor.submit(_review_chunk, chunk)
        except BrokenProcessPool as error:  # it broke since the last result was collected
            failed: Future = Future()
            failed.set_exception(error)
            return failed

    def collect(self, pending: deque) -> Iterator[Result]:
        """The results of the oldest chunk in flight, in order."""
        future, chunk = pending.popleft()
        try:
            results = future.result()
        except BrokenProcessPool:
            yield from self._recover(chunk, pending)
            return
        yield from results

    def _recover(self, chunk: list[Item], pending: deque) -> Iterator[Result]:
        in_flight = list(pending)
        pending.clear()
        self.shutdown()
        yield from self._one_at_a_time(chunk)
        for future, later in in_flight:
            if future.done() and not future.cancelled() and future.exception() is None:
                yield from future.result()
            else:
                yield from self._one_at_a_time(later)

    def _one_at_a_time(self, chunk: list[Item]) -> Iterator[Result]:
        executor = None
        try:
            for item in chunk:
                if executor is None:
                    executor = self._fresh_process()
                try:
                    with _sigint_held():
                        future = executor.submit(review_to_result, item)
                    result = future.result()
                except BrokenProcessPool:
                    executor.shutdown(wait=True)
                    executor, result = None, _crashed(item)
                yield result
        finally:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)

    def _fresh_process(self) -> ProcessPoolExecutor:
        """One worker, known to start: a process that dies before reviewing anything would make every deal look like a crasher."""
        executor = _start_pool(1, self.initargs)
        try:
            with _sigint_held():
                future = executor.submit(_ready)
            future.result()
        except BrokenProcessPool:
            executor.shutdown(wait=True)
            raise RuntimeError("worker processes die while starting, before reviewing any deal") from None
        return executor

    def shutdown(self) -> None:
        """Stop the pool: deals not yet handed to a worker are dropped; those in flight are finished (a worker
        killed mid-answer would leave the pool's result pipe half-written, and the wait for it endless)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def review_all(
    items: Iterable[Item], *, jobs: int, playbook_dir: str | None = None, lang: str | None = None, chunk_size: int = 64,
    keep_deals: bool = False,
) -> Iterator[Result]:
    """Results in input order. jobs=1 reviews in this process; more uses worker processes. With `keep_deals`
    each result also carries what the decision log keeps (Result.logged): only then, so little is sent back otherwise.

    Inputs are read lazily and at most a few chunks per worker are in flight,
    so memory stays flat however many deals there are.
    """
    if jobs <= 1:
        _init_worker(playbook_dir, lang, keep_deals=keep_deals)
        for item in items:
            yield review_to_result(item)
        return
    workers = _Workers(jobs, (playbook_dir, lang, True, keep_deals))
    pending: deque = deque()  # (future, chunk), oldest first
    try:
        for chunk in _chunks(items, chunk_size):
            pending.append((workers.submit(chunk), chunk))
            if len(pending) >= 3 * jobs:
                yield from workers.collect(pending)
        while pending:
            yield from workers.collect(pending)
    finally:
        workers.shutdown()


# -- results files ----------------------------------------------------------------


class ResultsFileError(ValueError):
    """A file given as earlier results (--resume, --previous) that does not hold result records."""


@dataclass(frozen=True)
class EarlierResult:
    """One record of an earlier run, as the roll-up and --resume need it."""

    source: str
    deal_id: str | None
    ok: bool
    digest: Digest | FailedDeal


def read_results(path: Path, truncate: bool = True) -> list[EarlierResult]:
    """The records an earlier run wrote in `path`.

    Every record is one line, written whole, so after a kill only the last line
    can be incomplete (it has no newline): it is cut off the file when
    `truncate`. Any other line that is not a result record is a
    ResultsFileError naming the file and the line, and the file is left as it is.
    """
    return [result for result, _ in each_result(path, truncate)]


def each_result(path: Path, truncate: bool = True) -> Iterator[tuple[EarlierResult, str]]:
    """The records of `path` as read_results gives them, one at a time, each with its line (without its newline):
    memory for one record, however long the file. The torn last line is cut off once every record is read."""
    if not path.exists():
        return
    keep = 0
    with open_for_reading(path) as handle:
        number = 0
        while raw := handle.readline(MAX_RESULT_LINE_BYTES + 1):
            number += 1
            if not raw.endswith(b"\n"):
                if len(raw) > MAX_RESULT_LINE_BYTES:
                    raise ResultsFileError(f"{path}, line {number}: longer than {MAX_RESULT_LINE_BYTES} bytes; {_NOT_RESULTS}")
                break  # torn by a kill mid-write
            result = _earlier(raw, f"{path}, line {number}")
            keep += len(raw)
            yield result, raw[:-1].decode("utf-8", "backslashreplace")
    if truncate and keep < path.stat().st_size:
        with path.open("r+b") as handle:
            handle.truncate(keep)


def question_maker(renderer: Any) -> Callable[[str, str, str | None], dict[str, str]]:
    """What the roll-up's first screen asks a deal's owner (engine.rendering.Renderer.owner_question), in every
    language, worded from the deal's result line: called for the few deals on that screen only."""
    from .playbook import LANGUAGES
    from .report import Report

    def ask(line: str, code: str, subject: str | None) -> dict[str, str]:
        report = Report.model_validate(json.loads(line)["report"])
        return {lang: renderer.owner_question(report, code, subject, lang) for lang in LANGUAGES}

    return ask


_NOT_RESULTS = "expected a result record written by `dealcoach pipeline`"


def _earlier(raw: bytes, where: str) -> EarlierResult:
    try:
        record = json.loads(raw)
    except ValueError as error:
        raise ResultsFileError(f"{where}: not JSON ({error}); {_NOT_RESULTS}") from None
    if not isinstance(record, dict):
        raise ResultsFileError(f"{where}: a JSON {type(record).__name__}, not an object; {_NOT_RESULTS}")
    expected = {"source": str, "ok": bool} | ({"deal_id": str, "report": dict} if record.get("ok") is True else {"error": dict})
    for field, kind in expected.items():
        if not isinstance(record.get(field), kind):
            found = "has no" if field not in record else "has a wrong"
            raise ResultsFileError(f"{where}: {found} {field!r}; {_NOT_RESULTS}")
    try:
        summary = digest(record)
    except (ValidationError, KeyError, TypeError) as error:
        raise ResultsFileError(f"{where}: its report is not one dealcoach wrote ({_first_problem(error)}); {_NOT_RESULTS}") from None
    return EarlierResult(printable(record["source"]), record.get("deal_id"), record["ok"], summary)


def _first_problem(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors(include_url=False)[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    return f"{type(error).__name__}: {error}"


class ResultsWriter:
    """Writes results as whole lines. After a failed write (disk full, file too large) a regular file is cut
    back to its last complete line, so it stays valid JSON Lines and --resume can continue from it; `lines`
    counts the lines written, exactly even when Ctrl-C comes mid-write."""

    def __init__(self, stream: BinaryIO, owned: bool = False):
        self.stream = stream
        self.owned = owned
        self.lines = 0
        try:
            regular = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
        except (AttributeError, OSError, ValueError):  # not a file descriptor (e.g. captured by a test runner)
            regular = False
        self.complete = stream.tell() if regular else None  # bytes that hold complete lines

    @classmethod
    def to_file(cls, path: str, append: bool) -> ResultsWriter:
        return cls(open(path, "ab" if append else "wb", buffering=0), owned=True)  # noqa: SIM115 - closed by close()

    def write(self, line: str) -> None:
        """Write one line; OSError (BrokenPipeError included) when it cannot be written whole."""
        encoded = (line + "\n").encode("utf-8", "backslashreplace")  # a lone surrogate becomes its JSON escape
        data = memoryview(encoded)
        with _sigint_held() if self.complete is not None else nullcontext():  # a pipe may block: never hold Ctrl-C there
            try:
                while data:
                    data = data[self.stream.write(data) or 0 :]  # an unbuffered file may take part of it
                self.stream.flush()
            except OSError:
                self._cut_back()
                raise
            self.lines += 1
            if self.complete is not None:
                self.complete += len(encoded)

    def _cut_back(self) -> None:
        if self.complete is None:
            return
        try:
            os.ftruncate(self.stream.fileno(), self.complete)
        except OSError:
            pass

    def close(self) -> None:
        if self.owned:
            self.stream.close()
