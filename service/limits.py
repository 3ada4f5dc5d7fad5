"""The service's limits: request body size (BodyLimit) and time per request (WorkPool)."""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class BodyLimit:
    """ASGI middleware: refuse a request body over `limit` bytes with 413, whether its size is declared
    (Content-Length) or not (chunked).

    The body is read in full before the application runs (every endpoint reads its whole JSON body anyway),
    so a refusal is a complete 413 problem, never an error from inside the application's body parsing.
    The rest of a refused body is left unread; the server discards it and the connection stays usable.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its whole body: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._refuse(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send):
        from .problems import problem

        await problem(413, "Request body too large", f"the limit is {self.limit} bytes")(scope, receive, send)


class OverTime(Exception):
    """The work did not finish within the request's time limit (answered 504)."""


class Overloaded(Exception):
    """No room for more work now (answered 503 with Retry-After)."""


class Deadline:
    """When a piece of work must be done by; long work (a batch) checks `passed()` between its steps."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.abandoned = False  # the request was answered 504 while the work ran; set by WorkPool

    def passed(self) -> bool:
        return self.abandoned or time.monotonic() > self.at


class WorkPool:
    """Engine work off the event loop, under a time limit that is answered on time.

    `run(work)` gives the client the work's result, or a 504 as soon as the limit passes, while the server
    goes on answering other requests. The choice, measured on a review (about 2-4 ms of work):

    - Threads, few of them. durable-rules serialises evaluations within a process, so more threads would
      not add throughput; parallelism is uvicorn's worker processes (`serve --workers`). A process pool
      inside each worker would double the processes (about 50 MB and 0.6 s to spawn each), add pickling
      to every request (about 1 ms) and still could not cancel a running task.
    - A thread cannot be killed, so a request over its limit is answered 504 and its work abandoned: a
      batch stops before its next deal (`Deadline.passed`), a single evaluation runs to its end.
    - Abandoned work cannot pile up: at most `threads` pieces of work run at once and `queue_size` more
      wait (waiting counts against their limit; one whose limit passes while waiting never starts).
      Beyond that, or while every thread is still busy with abandoned work, a request is refused at once
      with 503 (Overloaded) instead of waiting for a limit that cannot be met.
    - The threads are daemons: abandoned work never holds up the process's exit.
    - Work runs in a copy of the request's context (context variables), as `asyncio.to_thread` would: what the
      request's log lines carry (service.logs) reaches the work.

    Runaway pure-Python work shares the GIL with the event loop, so the other answers slow down but
    continue; the C rule engine holds the GIL for one call at a time, each a fraction of an evaluation.
    """

    def __init__(self, *, threads: int, queue_size: int, seconds: float):
        self.threads = threads
        self.seconds = seconds
        self._capacity = threads + queue_size
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._admitted = 0  # waiting or running
        self._overdue = 0  # still running after their request was answered 504
        self._started = False

    async def run(self, work: Callable[[Deadline], T]) -> T:
        """`work(deadline)` on a pool thread; OverTime when the limit passes first, Overloaded when full."""
        self._admit()
        deadline = Deadline(self.seconds)
        future: Future = Future()
        self._jobs.put((future, work, deadline, contextvars.copy_context()))
        waiting = asyncio.wrap_future(future)
        try:
            done, _ = await asyncio.wait({waiting}, timeout=self.seconds)
        except BaseException:  # the request itself was cancelled
            self._abandon(future, deadline)
            waiting.cancel()
            raise
        if done:
            return waiting.result()
        self._abandon(future, deadline)
        waiting.cancel()
        raise OverTime(f"the request took longer than the service's time limit ({self.seconds:g} s)")

    def _admit(self) -> None:
        with self._lock:
            if self._overdue >= self.threads:
                raise Overloaded(f"all {self.threads} evaluation threads are still busy with work over the time limit")
            if self._admitted >= self._capacity:
                raise Overloaded(f"{self._admitted} requests are already being evaluated or waiting")
            self._admitted += 1
            if not self._started:
                self._started = True
                for number in range(self.threads):
                    threading.Thread(target=self._serve, name=f"dealcoach-work-{number}", daemon=True).start()

    def _abandon(self, future: Future, deadline: Deadline) -> None:
        if future.cancel():  # still waiting: it will never start
            with self._lock:
                self._admitted -= 1
            return
        with self._lock:
            if not future.done():
                deadline.abandoned = True
                self._overdue += 1

    def _serve(self) -> None:
        while True:
            future, work, deadline, context = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = context.run(work, deadline)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting request
                future.set_exception(error)
            else:
                future.set_result(result)
            finally:
                with self._lock:
                    self._admitted -= 1
                    if deadline.abandoned:
                        self._overdue -= 1
