"""Every error answer of the service: application/problem+json (RFC 9457), complete, and never a stack trace.

- Each error is titled by what was wrong: the deal, the CRM record, the batch request, a query parameter;
  a path naming nothing (an unknown CRM) is 404.
- An unexpected exception becomes a 500 problem inside the application (ContainErrors) and is not re-raised,
  so the server keeps the keep-alive connection usable for the client's next request.
- Text that cannot be encoded as UTF-8 (a lone surrogate from a JSON "\\ud800" escape) is written with
  U+FFFD in its place: serialising an answer never fails.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..engine import api
from ..engine.errors import DealcoachError, DealInputError, InputProblem
from ..engine.loading import problems_from_errors
from ..store.log import StoreError
from .limits import Overloaded, OverTime

PROBLEM = "application/problem+json"
log = logging.getLogger("dealcoach.service")


class Problem(BaseModel):
    """An error (RFC 9457); `errors` lists the offending fields."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = []


def scrub(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (a surrogate pair becomes its character)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def json_body(answer: BaseModel) -> bytes:
    """The answer as UTF-8 JSON; text holding a lone surrogate is scrubbed rather than failing the answer."""
    try:
        return answer.model_dump_json().encode("utf-8")
    except PydanticSerializationError:
        return scrub(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False)).encode("utf-8")


MAX_ERRORS = 50  # problems listed in one answer; a 1 MB body of unknown keys must not answer with 50 MB


def problem(status: int, title: str, detail: str, errors: list[InputProblem] | None = None) -> Response:
    errors = list(errors or [])
    if len(errors) > MAX_ERRORS:
        errors = [*errors[:MAX_ERRORS], InputProblem("", f"... and {len(errors) - MAX_ERRORS:,} more problems of the same kind")]
    body = Problem(
        title=title, status=status, detail=detail, errors=[{"path": p.path, "message": p.message} for p in errors or []]
    )
    return Response(json_body(body), status_code=status, media_type=PROBLEM)


def internal_error() -> Response:
    return problem(500, "Internal error", "unexpected error; the error is logged")


class ContainErrors:
    """ASGI middleware: an exception escaping the application becomes a complete 500 problem.

    Starlette's own last-resort handler answers and then re-raises, and the server then drops the
    connection without saying `Connection: close`: the client's next request on it fails. Here the
    exception is logged and contained. Only when an answer was already half sent is it re-raised: closing
    the connection is then the one way to tell the client.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = finished = False

        async def watched_send(message):
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            log.exception("unexpected error on %s", scope.get("path"))
            if not started:
                await internal_error()(scope, receive, send)
            elif not finished:
                raise


def _subject(request: Request) -> str:
    """What a request's body is, for error titles."""
    path = request.url.path
    if path.startswith("/v1/crm/"):
        return "CRM record"
    if path == "/v1/review/batch":
        return "batch request"
    if path == "/v1/brief":
        return "request"
    return "deal"


def _location(error: dict[str, Any]) -> str:
    return str(tuple(error["loc"])[0]) if error["loc"] else ""


def install_error_handlers(app: FastAPI) -> None:
    """Problem answers for every error the application raises (ContainErrors answers the rest)."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        errors = list(error.errors())
        malformed = [e for e in errors if e.get("type") == "json_invalid"]
        if malformed:
            reason = (malformed[0].get("ctx") or {}).get("error")
            return problem(400, "Malformed JSON", "the request body is not valid JSON" + (f": {reason}" if reason else ""))
        in_path = [e for e in errors if _location(e) == "path"]
        if in_path:
            first = in_path[0]
            name = first["loc"][-1]
            return problem(404, "Not found", f"unknown {name} {first.get('input')!r}: {first['msg']}")
        body = [dict(e, loc=tuple(e["loc"])[1:]) for e in errors if _location(e) == "body"]
        other = [e for e in errors if _location(e) != "body"]
        problems = problems_from_errors(body) + [
            InputProblem(".".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, ")) for e in other
        ]
        if not body:
            title = "Invalid parameter" if len(other) == 1 else "Invalid parameters"
            return problem(422, title, "; ".join(str(p) for p in problems), problems)
        subject = _subject(request)
        if other:
            return problem(422, "Invalid request", f"the {subject} and the query parameters have problems, listed in errors", problems)
        return problem(422, f"Invalid {subject}", f"the request does not describe a valid {subject}", problems)

    @app.exception_handler(DealInputError)
    async def bad_deal(request: Request, error: DealInputError):
        subject = _subject(request)
        return problem(422, f"Invalid {subject}", f"{error.source}: {len(error.problems)} problem(s), listed in errors", error.problems)

    @app.exception_handler(api.UnknownStageError)
    async def bad_stage(request: Request, error: api.UnknownStageError):
        return problem(422, "Unknown stage", str(error), [InputProblem("to", str(error))])

    @app.exception_handler(api.UsageError)
    async def bad_request(request: Request, error: api.UsageError):
        errors = [InputProblem(error.parameter, str(error))] if error.parameter else None
        return problem(422, "Invalid request", str(error), errors)

    @app.exception_handler(OverTime)
    async def too_slow(request: Request, error: OverTime):
        return problem(504, "Timed out", str(error))

    @app.exception_handler(Overloaded)
    async def too_busy(request: Request, error: Overloaded):
        response = problem(503, "Busy", str(error))
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        titles = {400: "Bad request", 401: "Unauthorised", 404: "Not found", 405: "Method not allowed"}
        response = problem(error.status_code, titles.get(error.status_code, "Error"), str(error.detail))
        for name, value in (error.headers or {}).items():  # e.g. Allow on a 405
            response.headers[name] = value
        if error.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(StoreError)
    async def log_unavailable(request: Request, error: StoreError):
        log.error("decision log error on %s: %s", request.url.path, error)
        return problem(503, "Decision log unavailable", "the decision could not be logged, so it is not given; try again")

    @app.exception_handler(DealcoachError)
    async def engine_error(request: Request, error: DealcoachError):
        log.error("engine error on %s: %s", request.url.path, error)
        return problem(500, "Internal error", "dealcoach could not evaluate this deal; the error is logged")
