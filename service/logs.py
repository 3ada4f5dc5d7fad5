"""The service's log lines: one JSON object per line on stderr (or a plain text line), each knowing the request
it belongs to.

- `Exchange` holds what a log line says about the request being answered (its request id, and the decision id
  once the answer has one); the middleware (service.observability) sets it in a context variable and the
  engine work inherits it (service.limits.WorkPool runs work in the request's context), so `note_decision`
  from the endpoint and every error logged while answering reach the request's lines without re-reading a body.
- `logging_config` is the `logging.config.dictConfig` that `dealcoach serve` hands to uvicorn: our loggers and
  uvicorn's warnings through one formatter; uvicorn's own access log stays off (ours has the request id).
- Lines are written by a background thread (`BackgroundStderr`): a reader of stderr that stalls (a full pipe)
  never stalls answering requests or stopping the service; past `capacity` waiting lines, lines are dropped
  and the count is written once writing resumes.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import os
import threading
import time
from contextvars import ContextVar
from typing import Any

ACCESS_LOGGER = "dealcoach.access"
REQUEST_FIELDS = ("method", "path", "route", "status", "duration_ms", "client")  # of an access line


class Exchange:
    """What the log lines of one request carry."""

    __slots__ = ("decision_id", "request_id")

    def __init__(self, request_id: str):
        self.request_id = request_id
        self.decision_id: str | None = None


current_exchange: ContextVar[Exchange | None] = ContextVar("dealcoach_exchange", default=None)


def note_decision(decision_id: str) -> None:
    """Record the answer's decision id for the request's log lines (nothing outside a request)."""
    exchange = current_exchange.get()
    if exchange is not None:
        exchange.decision_id = decision_id


def _time(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """time, level, event, message, the request's fields and ids, and the error's traceback if any."""
    entry: dict[str, Any] = {
        "time": _time(record), "level": record.levelname.lower(), "event": getattr(record, "event", "log"),
        "message": record.getMessage(), "logger": record.name,
    }
    for name in REQUEST_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            entry[name] = value
    exchange = getattr(record, "exchange", None) or current_exchange.get()
    if exchange is not None:
        entry["request_id"] = exchange.request_id
        if exchange.decision_id is not None:
            entry["decision_id"] = exchange.decision_id
    return entry


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, event, message, logger, and when answering a request its method,
    path, route, status, duration_ms, client, request_id and decision_id; `error` holds a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _fields(record)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _escaped(value: Any) -> str:
    """A value's text with control characters (a newline) escaped: it stays on one line."""
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def _plain(value: Any) -> str:
    """A key=value value: escaped, and quoted when it holds a space."""
    text = _escaped(value)
    return f'"{text}"' if " " in text or not text else text


class TextFormatter(logging.Formatter):
    """`time level message key=value ...` for a person at a terminal; a traceback follows on its own lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _fields(record)
        head = f"{entry.pop('time')} {entry.pop('level').upper():7} {_escaped(entry.pop('message'))}"
        entry.pop("logger")
        if entry.get("event") in ("log", "request"):
            entry.pop("event")
        line = " ".join([head, *(f"{key}={_plain(value)}" for key, value in entry.items())])
        return line + ("\n" + self.formatException(record.exc_info) if record.exc_info else "")


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}


class BackgroundStderr(logging.Handler):
    """A handler that formats a record where it is logged (the request's context is there) and leaves writing
    to standard error (file descriptor 2) to a daemon thread, so a stalled reader blocks nobody else.

    The thread wakes at most every `pause` seconds and writes every waiting line in one call: waking it for
    each line would hand the interpreter lock back and forth with the evaluation threads for every request."""

    def __init__(self, capacity: int = 10_000, pause: float = 0.02, drain_seconds: float = 1.0):
        super().__init__()
        self.waiting: collections.deque[bytes] = collections.deque()
        self.capacity = capacity
        self.pause = pause
        self.drain_seconds = drain_seconds
        self.dropped = 0
        self.writing = False
        self.wake = threading.Event()
        threading.Thread(target=self._write, name="dealcoach-log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
        except Exception:  # noqa: BLE001 - logging must never fail the caller
            self.handleError(record)
            return
        if len(self.waiting) >= self.capacity:
            self.dropped += 1
            return
        self.waiting.append(data)
        if not self.wake.is_set():
            self.wake.set()

    def _write(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(self.pause)  # let lines gather: one write for many
            self.wake.clear()
            self.writing = True
            chunks = []
            if self.dropped:
                dropped, self.dropped = self.dropped, 0
                chunks.append(self._dropped_line(dropped))
            while self.waiting:
                chunks.append(self.waiting.popleft())
            data = b"".join(chunks)
            try:
                while data:
                    data = data[os.write(2, data):]
            except OSError:
                pass  # standard error is closed: nothing to write to
            self.writing = False

    def _dropped_line(self, count: int) -> bytes:
        record = logging.LogRecord("dealcoach.service", logging.WARNING, __file__, 0,
                                   "%d log lines dropped: standard error was not read fast enough", (count,), None)
        record.event = "log_lines_dropped"
        return ((self.formatter or logging.Formatter()).format(record) + "\n").encode("utf-8", "backslashreplace")

    def flush(self) -> None:
        """Wait for the lines not yet written (at exit), never longer than `drain_seconds`."""
        deadline = time.monotonic() + self.drain_seconds
        while (self.waiting or self.writing or self.wake.is_set()) and time.monotonic() < deadline:
            time.sleep(0.01)


def flush_logs() -> None:
    """Write out every waiting line: when the service stops (uvicorn then ends the process by re-raising the stop
    signal, and neither atexit nor logging.shutdown runs)."""
    for handler in logging.getLogger("dealcoach").handlers:
        handler.flush()


def line(log_format: str, message: str, *, event: str, **fields: Any) -> str:
    """One log line formatted as the service writes them, for a message written before logging is set up."""
    record = logging.LogRecord("dealcoach.service", logging.INFO, __file__, 0, message, None, None)
    record.event = event
    json_entry = FORMATTERS[log_format]().format(record)
    if log_format == "json" and fields:
        return json.dumps({**json.loads(json_entry), **fields}, ensure_ascii=False, default=str)
    return json_entry


def logging_config(log_format: str) -> dict[str, Any]:
    """The dictConfig for a service process: dealcoach's loggers at INFO and uvicorn's at WARNING, to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"dealcoach": {"()": f"{__name__}.{FORMATTERS[log_format].__name__}"}},
        "handlers": {"stderr": {"()": f"{__name__}.BackgroundStderr", "formatter": "dealcoach"}},
        "loggers": {
            "dealcoach": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
