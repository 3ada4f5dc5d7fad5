"""The HTTP decision service: a versioned JSON API over the same engine as the CLI.

- POST /v1/review, /v1/gate?to=STAGE, /v1/review/batch; GET /v1/rules,
  /v1/rules/{code}, /v1/schema, /v1/health. OpenAPI at /openapi.json, docs at /docs.
- Every answer carries the rule-set version and a decision id. A blocked gate
  is a normal 200 answer with the reasons.
- Errors are application/problem+json (RFC 9457) with the offending field
  paths; no stack trace ever reaches a caller.
- Limits: request body size, batch size, per-request time. An optional bearer
  token protects everything but /v1/health.
- durable-rules is process-global and not thread-safe: evaluations in one
  process are serialised by the engine adapter; parallelism is worker
  processes (`dealcoach serve --workers N`), each with its own engine.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..crm import load_mapping
from ..engine import api
from ..engine.errors import DealcoachError, DealInputError, InputProblem
from ..engine.loading import problems_from_errors
from ..engine.model import Deal
from ..engine.report import Changes, GateResult, Report
from ..engine.version import VERSION

PROBLEM = "application/problem+json"
log = logging.getLogger("dealcoach.service")
CrmKind = Literal["salesforce", "hubspot", "odoo"]
AsOfQuery = Annotated[dt.date, Query(description="Evaluation date (YYYY-MM-DD): a CRM record has none, and dealcoach never reads the clock.")]
LangQuery = Annotated[Literal["zh", "en"] | None, Query(description="Render each finding's text in zh or en.")]


@dataclass(frozen=True)
class Settings:
    """How one service process runs (environment variables DEALCOACH_* when started by `dealcoach serve`)."""

    playbook_dir: str | None = None
    mapping_dir: str | None = None
    token: str | None = None
    max_body_bytes: int = 1_000_000
    max_batch: int = 100
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            playbook_dir=env.get("DEALCOACH_PLAYBOOK") or None,
            mapping_dir=env.get("DEALCOACH_MAPPINGS") or None,
            token=env.get("DEALCOACH_API_TOKEN") or None,
            max_body_bytes=int(env.get("DEALCOACH_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_batch=int(env.get("DEALCOACH_MAX_BATCH", cls.max_batch)),
            timeout_seconds=float(env.get("DEALCOACH_TIMEOUT_SECONDS", cls.timeout_seconds)),
        )


# -- answers -----------------------------------------------------------------


class Problem(BaseModel):
    """An error (RFC 9457); `errors` lists the offending fields."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = []


class ReviewAnswer(BaseModel):
    decision_id: str
    ruleset_version: str
    report: Report


class GateAnswer(BaseModel):
    decision_id: str
    ruleset_version: str
    gate: GateResult


class ChangesRequest(BaseModel):
    previous: Deal = Field(description="The deal as it was at the last review.")
    current: Deal = Field(description="The deal now.")


class ChangesAnswer(BaseModel):
    decision_id: str
    ruleset_version: str
    changes: Changes


class BatchRequest(BaseModel):
    deals: list[dict[str, Any]] = Field(description="Deal records, each as for /v1/review.")


class BatchItem(BaseModel):
    index: int
    deal_id: str | None
    ok: bool
    report: Report | None = None
    errors: list[dict[str, str]] = []


class BatchAnswer(BaseModel):
    decision_id: str
    ruleset_version: str
    results: list[BatchItem]


class RuleInfo(BaseModel):
    """A finding rule: identity, traits (what it is about, where it applies, what it yields to) and documentation."""

    code: str
    symbol: str
    kind: str
    severity: str
    section: str
    gate_only: bool
    subject: str
    phases: list[str]
    yields_to: list[str]
    topics: list[str]
    summary: str
    rationale: str
    doc: str


class Health(BaseModel):
    status: str
    version: str
    ruleset_version: str


def as_json(answer: BaseModel) -> Response:
    """The answer serialised once, directly: the route's response_model documents it, and FastAPI does
    not validate the (already valid) report a second time."""
    return Response(answer.model_dump_json(), media_type="application/json")


def problem(status: int, title: str, detail: str, errors: list[InputProblem] | None = None) -> JSONResponse:
    body = Problem(
        title=title, status=status, detail=detail, errors=[{"path": p.path, "message": p.message} for p in errors or []]
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse request bodies over `limit` bytes (declared or streamed) with 413."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        response = problem(413, "Request body too large", f"the limit is {self.limit} bytes")
        await response(scope, receive, send)


# -- the application -------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI application for one set of settings."""
    settings = settings or Settings()
    coach = api.coach(settings.playbook_dir)
    version = f"{VERSION}+{coach.playbook.version_tag}"

    def authorised(request: Request) -> None:
        if settings.token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip(), settings.token):
            raise StarletteHTTPException(401, "a valid bearer token is required (Authorization: Bearer <token>)")

    async def timed(function, *args):
        """Run engine work within the per-request time limit.

        It runs on the event loop's own thread: one evaluation takes about 2 ms and
        never releases the GIL, so a worker thread would only add GIL hand-overs.
        Work over the limit is answered 504; a batch checks the limit between deals.
        """
        started = time.monotonic()
        result = function(*args)
        if time.monotonic() - started > settings.timeout_seconds:
            raise TimeoutError
        return result

    def localise(report: Report, lang: str | None) -> Report:
        return coach.localise(report, lang) if lang else report

    app = FastAPI(
        title="dealcoach",
        version=VERSION,
        description="Rules-based deal coaching for key-account sales: review a deal, gate a stage change.",
    )
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorised)])
    problem_responses = {code: {"model": Problem, "content": {PROBLEM: {}}} for code in (400, 401, 413, 422, 504)}

    @v1.post("/review", response_model=ReviewAnswer, responses=problem_responses)
    async def review(deal: Deal, lang: LangQuery = None):
        """Review one deal: every finding, block risks first."""
        report = await timed(lambda: coach.review(deal))
        return as_json(ReviewAnswer(decision_id=str(uuid.uuid4()), ruleset_version=version, report=localise(report, lang)))

    @v1.post("/gate", response_model=GateAnswer, responses=problem_responses)
    async def gate(deal: Deal, to: Annotated[str, Query(description="Target stage: id, Chinese or English name.")], lang: LangQuery = None):
        """May the deal advance to stage `to`? A blocked gate is a normal answer with the reasons."""
        return await gate_answer(deal, to, lang)

    async def gate_answer(deal: Deal | dict, to: str, lang: str | None) -> Response:
        result = await timed(lambda: coach.gate(deal, to))
        if lang:
            result = coach.localise(result, lang)
        return as_json(GateAnswer(decision_id=str(uuid.uuid4()), ruleset_version=version, gate=result))

    @v1.post("/review/changes", response_model=ChangesAnswer, responses=problem_responses)
    async def review_changes(request: ChangesRequest, lang: LangQuery = None):
        """What changed since the previous version of the deal: new and cleared risks, done actions, movement."""
        result = await timed(lambda: coach.changes(request.previous, request.current))
        if lang:
            result = coach.localise(result, lang)
        return as_json(ChangesAnswer(decision_id=str(uuid.uuid4()), ruleset_version=version, changes=result))

    @v1.post("/brief", responses=problem_responses)
    async def brief(
        deal: Deal,
        attendees: Annotated[str, Query(description="Contact ids, comma-separated.")],
        date: Annotated[dt.date, Query(description="Meeting date.")],
        purpose: Annotated[str, Query(
            max_length=200,
            description="The meeting's purpose: one of first_visit, technical_exchange, proposal, negotiation, tender_clarification, "
            "acceptance, a Chinese name (商务谈判, 技术交流 ...) or free text.",
        )],
        lang: Annotated[Literal["zh", "en"], Query()] = "zh",
        format: Annotated[Literal["json", "markdown", "html"], Query()] = "json",  # noqa: A002 - the query parameter's name
    ):
        """A one-page pre-meeting brief (JSON, Markdown for group chats, or printable HTML), led by what the purpose needs."""
        people = [a.strip() for a in attendees.split(",") if a.strip()]
        result = await timed(lambda: coach.brief(deal, people, date, purpose))
        text = coach.render_brief(result, lang=lang, fmt=format)
        media = {"json": "application/json", "markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}[format]
        return Response(text, media_type=media)

    @v1.post("/review/batch", response_model=BatchAnswer, responses=problem_responses)
    async def review_batch(request: BatchRequest, lang: LangQuery = None):
        """Review up to max_batch deals; a bad deal gets an error item, the others are reviewed."""
        if len(request.deals) > settings.max_batch:
            return problem(413, "Batch too large", f"{len(request.deals)} deals; the limit is {settings.max_batch}")

        def work() -> list[BatchItem]:
            items = []
            deadline = time.monotonic() + settings.timeout_seconds
            for index, document in enumerate(request.deals):
                if time.monotonic() > deadline:
                    raise TimeoutError
                deal_id = document.get("id") if isinstance(document.get("id"), str) else None
                try:
                    report = localise(coach.review(document), lang)
                    items.append(BatchItem(index=index, deal_id=deal_id, ok=True, report=report))
                except DealInputError as error:
                    errors = [{"path": p.path, "message": p.message} for p in error.problems]
                    items.append(BatchItem(index=index, deal_id=deal_id, ok=False, errors=errors))
            return items

        return as_json(BatchAnswer(decision_id=str(uuid.uuid4()), ruleset_version=version, results=await timed(work)))

    def from_crm(crm: CrmKind, record: dict[str, Any], as_of: dt.date) -> dict:
        custom = Path(settings.mapping_dir) / f"{crm}.yaml" if settings.mapping_dir else None
        mapping = load_mapping(crm, custom if custom and custom.exists() else None)
        return coach.from_crm(crm, record, as_of=as_of, mapping=mapping, label=f"{crm} record")

    @v1.post("/crm/{crm}/review", response_model=ReviewAnswer, responses=problem_responses)
    async def review_crm_record(crm: CrmKind, record: dict[str, Any], as_of: AsOfQuery, lang: LangQuery = None):
        """Review a CRM's own record (Salesforce Opportunity, HubSpot deal bundle, Odoo crm.lead) through its mapping."""
        report = await timed(lambda: coach.review(from_crm(crm, record, as_of)))
        return as_json(ReviewAnswer(decision_id=str(uuid.uuid4()), ruleset_version=version, report=localise(report, lang)))

    @v1.post("/crm/{crm}/gate", response_model=GateAnswer, responses=problem_responses)
    async def gate_crm_record(
        crm: CrmKind, record: dict[str, Any], as_of: AsOfQuery,
        to: Annotated[str, Query(description="Target stage: id, Chinese or English name.")], lang: LangQuery = None,
    ):
        """Gate a CRM record's stage change, e.g. before the CRM saves it."""
        return await gate_answer(await timed(lambda: from_crm(crm, record, as_of)), to, lang)

    @v1.get("/rules", response_model=list[RuleInfo])
    def rules():
        """Every finding rule: code, kind, severity, methodology section, traits."""
        return [RuleInfo(**coach.rule_info(r)) for r in coach.rules()]

    @v1.get("/rules/{code}", response_model=RuleInfo, responses={404: {"model": Problem, "content": {PROBLEM: {}}}})
    def rule(code: str):
        """One rule by code (DC406) or symbol (sponsors-but-blind)."""
        found = coach.rule(code)
        if found is None:
            raise StarletteHTTPException(404, f"{code!r} is not a rule code or symbol")
        return RuleInfo(**coach.rule_info(found))

    @v1.get("/schema")
    def schema() -> dict:
        """The JSON Schema of a deal record."""
        return Deal.model_json_schema()

    @app.get("/v1/health", response_model=Health)
    def health():
        """Liveness; needs no token."""
        return Health(status="ok", version=VERSION, ruleset_version=version)

    app.include_router(v1)
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "Malformed JSON", "the request body is not valid JSON")
        body = [dict(e, loc=tuple(e["loc"])[1:]) for e in errors if tuple(e["loc"])[:1] == ("body",)]
        other = [e for e in errors if tuple(e["loc"])[:1] != ("body",)]
        problems = problems_from_errors(body) + [
            InputProblem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in other
        ]
        return problem(422, "Invalid deal", "the request does not describe a valid deal", problems)

    @app.exception_handler(DealInputError)
    async def bad_deal(request: Request, error: DealInputError):
        return problem(422, "Invalid deal", f"{error.source}: {len(error.problems)} problem(s), listed in errors", error.problems)

    @app.exception_handler(api.UnknownStageError)
    async def bad_stage(request: Request, error: api.UnknownStageError):
        return problem(422, "Unknown stage", str(error), [InputProblem("to", str(error))])

    @app.exception_handler(TimeoutError)
    async def too_slow(request: Request, error: TimeoutError):
        return problem(504, "Timed out", "the request took longer than the service's time limit")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        titles = {400: "Bad request", 401: "Unauthorised", 404: "Not found", 405: "Method not allowed"}
        response = problem(error.status_code, titles.get(error.status_code, "Error"), str(error.detail))
        for name, value in (error.headers or {}).items():  # e.g. Allow on a 405
            response.headers[name] = value
        if error.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(DealcoachError)
    async def engine_error(request: Request, error: DealcoachError):
        log.error("engine error on %s: %s", request.url.path, error)
        return problem(500, "Internal error", "dealcoach could not evaluate this deal; the error is logged")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return problem(500, "Internal error", "unexpected error; the error is logged")


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (what `dealcoach serve` runs in every worker)."""
    return create_app(Settings.from_env())
