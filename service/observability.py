"""ASGI middleware, outermost: every request gets a request id, an access log line and its metrics.

- The request id is the caller's `X-Request-ID` when it is 1 to 128 printable ASCII characters, else a new
  one (32 hex digits, random but not secret); it is sent back on every answer, errors included (the 413 of BodyLimit and the 500 of ContainErrors
  are answered inside this middleware).
- The access line (logger dealcoach.access) and the request metrics are written once the answer is sent,
  with the route template the router matched, the status and the time taken.
"""

from __future__ import annotations

import logging
import random
import re
import time

from starlette.routing import Match, Mount

from .logs import ACCESS_LOGGER, Exchange, current_exchange
from .metrics import UNMATCHED, ServiceMetrics

REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")
access_log = logging.getLogger(ACCESS_LOGGER)


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID if usable (printable ASCII, no spaces, at most 128 characters), else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if _REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return f"{random.getrandbits(128):032x}"  # no system call: os.urandom would hand the interpreter lock to the
    # evaluation threads, and the event loop would wait for it back (measured: 70 us a request under load)


def route_template(scope) -> str:
    """The path template of the route that answered (`/v1/crm/{crm}/review`), or `unmatched`. A plain route or a
    mount (/openapi.json, /docs's assets) does not name itself in the scope: it is found among the app's routes."""
    found = getattr(scope.get("route"), "path", None)
    if found:
        return found
    for route in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
        path = getattr(route, "path", None)  # an included router has none: its routes name themselves in the scope
        if isinstance(path, str) and route.matches(scope)[0] == Match.FULL:
            return path + ("/{path}" if isinstance(route, Mount) else "")
    return UNMATCHED


def access_record(scope, route: str, status: int, seconds: float, exchange: Exchange) -> logging.LogRecord:
    """The access line's record, made directly: logger.info() would first look up its caller's source line."""
    method, path, client = scope["method"], scope["path"], scope.get("client")
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, "%s %s %d", (method, path, status), None)
    record.__dict__.update(event="request", method=method, path=path, route=route, status=status, duration_ms=round(seconds * 1000, 2),
                           client=client[0] if client else None, exchange=exchange)
    return record


class Observe:
    """Request id, access log line and request metrics for every HTTP request."""

    def __init__(self, app, *, access: bool, metrics: ServiceMetrics | None):
        self.app = app
        self.access = access
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        exchange = Exchange(request_id(scope.get("headers") or []))
        header = (REQUEST_ID_HEADER, exchange.request_id.encode("ascii"))
        status = 500  # if the answer never starts

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        context = current_exchange.set(exchange)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_exchange.reset(context)
            seconds = time.perf_counter() - started
            route = route_template(scope)
            if self.metrics is not None:
                self.metrics.observe_request(scope["method"], route, status, seconds)
            if self.access and access_log.isEnabledFor(logging.INFO):
                access_log.handle(access_record(scope, route, status, seconds, exchange))
