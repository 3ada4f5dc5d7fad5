"""Reviewing many deals: read every input, review in worker processes, yield one result per deal in order.

Inputs are a directory of deal files, a JSON-Lines file (one deal per line),
a single deal file, or standard input (JSON Lines). A deal that cannot be
read or validated gives an error record naming the deal and the fields; the
others are reviewed. Each worker process builds the rule set once.
"""

from __future__ import annotations

import codecs
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DealcoachError, DealInputError, InputProblem
from .loading import MAX_BYTES, deal_document, read_document
from .rollup import Digest, FailedDeal

DEAL_SUFFIXES = (".yaml", ".yml", ".json")
LINES_SUFFIXES = (".jsonl", ".ndjson")


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

    def parsed(self) -> Any:
        """The deal document, or DealInputError."""
        if self.error is not None:
            raise self.error
        if self.line is not None:
            try:
                return json.loads(self.line, parse_constant=_no_constant)
            except (ValueError, RecursionError) as error:
                reason = error if isinstance(error, ValueError) else "nested too deeply"
                raise DealInputError(self.source, [InputProblem("", f"malformed JSON line: {reason}")]) from None
        if self.path is not None:
            return read_document(self.path)
        return self.document


def _lines(stream: Iterable[bytes], label: str) -> Iterator[Item]:
    """One item per non-blank line, read lazily; each line is held to the size limit of one deal file."""
    for number, raw in enumerate(stream, 1):
        source = f"{label}:{number}"
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if len(raw) > MAX_BYTES:
            yield Item(source, error=DealInputError(source, [InputProblem("", f"line is {len(raw)} bytes; the limit is {MAX_BYTES}")]))
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Item(source, error=DealInputError(source, [InputProblem("", f"not valid UTF-8 text at byte {error.start}")]))
            continue
        if line.strip():
            yield Item(source, line=line)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a deal can hold")


def read_inputs(source: str) -> Iterator[Item]:
    """Every deal in `source`, in a stable order (directory: by file name; lines: as written)."""
    if source == "-":
        yield from _lines(sys.stdin.buffer, "<stdin>")
        return
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in DEAL_SUFFIXES + LINES_SUFFIXES)
        for file in files:
            yield from read_inputs(str(file))
        return
    if path.suffix.lower() in LINES_SUFFIXES:
        try:
            handle = path.open("rb")
        except OSError as error:
            yield Item(source, error=DealInputError(source, [InputProblem("", f"cannot read the file: {error.strerror}")]))
            return
        with handle:
            yield from _lines(handle, source)
        return
    yield Item(source, path=source)


def count_inputs(source: str) -> int | None:
    """How many deals `source` holds, when that is cheap to know (for a progress bar)."""
    if source == "-":
        return None
    path = Path(source)
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    total = 0
    for file in files:
        if file.suffix.lower() in LINES_SUFFIXES:
            with file.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        elif file.suffix.lower() in DEAL_SUFFIXES:
            total += 1
    return total


# -- the work each process does --------------------------------------------------

_worker_coach: Any = None  # engine.coach.Coach, built once per process
_worker_lang: str | None = None


def _init_worker(playbook_dir: str | None, lang: str | None, in_pool: bool = False) -> None:
    """Load the playbook and compile the rule set once per process."""
    global _worker_coach, _worker_lang
    from . import api
    from .evaluation import compiled

    if in_pool:  # Ctrl-C is the parent's to handle: it keeps every result already written
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _exit_with_parent()
    _worker_coach = api.coach(playbook_dir)
    _worker_lang = lang
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
    """One result record: the report as JSON data, or an error naming the deal and the fields."""
    try:
        document = item.parsed()
    except DealInputError as error:
        return _error_record(item.source, None, error)
    deal_id = document.get("id") if isinstance(document, dict) else None
    try:
        report = _worker_coach.review(deal_document(document, item.source))
        if _worker_lang is not None:
            report = _worker_coach.localise(report, _worker_lang)
    except DealcoachError as error:
        return _error_record(item.source, deal_id, error)
    return {"source": item.source, "deal_id": report.deal_id, "ok": True, "report": report.model_dump(mode="json")}


def _error_record(source: str, deal_id: Any, error: DealcoachError) -> dict:
    record = {"source": source, "deal_id": deal_id if isinstance(deal_id, str) else None, "ok": False}
    if isinstance(error, DealInputError):
        record["error"] = {"kind": "invalid_deal", "problems": [{"path": p.path, "message": p.message} for p in error.problems]}
    else:
        record["error"] = {"kind": type(error).__name__, "message": str(error)}
    return record


def default_jobs() -> int:
    """The machine's cores available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class Result:
    """One deal's outcome: the JSON line to write, and the digest the roll-up needs."""

    line: str
    digest: Digest | FailedDeal
    ok: bool


def digest(record: dict) -> Digest | FailedDeal:
    """The part of a result record the roll-up reads: the typed digest of the report, or the failure."""
    if not record["ok"]:
        error = record.get("error", {})
        problems = [f"{p['path'] or '(deal)'}: {p['message']}" for p in error.get("problems", [])] or [error.get("message", "")]
        return FailedDeal(source=record["source"], deal_id=record.get("deal_id"), problems=problems)
    return Digest.model_validate(record["report"])


def review_to_result(item: Item) -> Result:
    record = review_item(item)
    return Result(json.dumps(record, ensure_ascii=False), digest(record), record["ok"])


def _review_chunk(items: list[Item]) -> list[Result]:
    return [review_to_result(item) for item in items]


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def review_all(
    items: Iterable[Item], *, jobs: int, playbook_dir: str | None = None, lang: str | None = None, chunk_size: int = 64
) -> Iterator[Result]:
    """Results in input order. jobs=1 reviews in this process; more uses worker processes.

    Inputs are read lazily and at most a few chunks per worker are in flight,
    so memory stays flat however many deals there are.
    """
    if jobs <= 1:
        _init_worker(playbook_dir, lang)
        for item in items:
            yield review_to_result(item)
        return
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(playbook_dir, lang, True))
    pending: deque = deque()
    try:
        for chunk in _chunks(items, chunk_size):
            pending.append(executor.submit(_review_chunk, chunk))
            if len(pending) >= 3 * jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def resume_point(output: Path, truncate: bool = True) -> list[dict]:
    """The complete records a run left in `output`; a torn last line is cut off the file (unless truncate=False).

    Every record is one line, written whole and flushed, so after a kill only
    the last line can be incomplete.
    """
    if not output.exists():
        return []
    records: list[dict] = []
    keep = 0
    with output.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                records.append(json.loads(raw))
            except ValueError:
                break
            keep += len(raw)
    if truncate:
        with output.open("r+b") as handle:
            handle.truncate(keep)
    return records
