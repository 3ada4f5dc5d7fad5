"""The HTTP decision service: a versioned JSON API over the same engine as the CLI.

- POST /v1/review, /v1/gate?to=STAGE, /v1/review/batch; GET /v1/rules,
  /v1/rules/{code}, /v1/schema, /v1/health, /v1/ready. OpenAPI at /openapi.json, docs at /docs (Swagger UI
  served from the fastapi-offline package: no network needed), Prometheus metrics at /metrics.
- Every answer carries the rule-set version and a decision id. A blocked gate
  is a normal 200 answer with the reasons.
- Errors are application/problem+json (RFC 9457) with the offending field
  paths (service.problems); no stack trace ever reaches a caller.
- Limits (service.limits): request body size, batch size, per-request time
  (engine work runs on a few threads, answered 504 when over the limit, 503
  when every thread is still busy with such work). An optional bearer token
  protects everything but /v1/health and /v1/ready (and /metrics when `public_metrics`).
- Every request gets a request id, a JSON access log line and its metrics (service.observability); /v1/ready
  answers 200 once the engine is built and a warm-up evaluation has succeeded.
- durable-rules is process-global and not thread-safe: evaluations in one
  process are serialised by the engine adapter; parallelism is worker
  processes (`dealcoach serve --workers N`), each with its own engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, BeforeValidator, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..crm import KINDS, load_mapping
from ..crm.convert import RecordChoiceError
from ..crm.outcomes import closed_outcomes
from ..crm.common import json_kind
from ..engine import api
from ..engine.errors import DealcoachError, DealInputError, InputProblem
from ..engine.model import Deal
from ..engine.report import Changes, GateResult, Report
from ..engine.version import VERSION
from .limits import BodyLimit, Deadline, OverTime, WorkPool
from .logs import flush_logs, note_decision
from .metrics import CONTENT_TYPE, ServiceMetrics
from .observability import Observe
from .problems import PROBLEM, ContainErrors, Problem, install_error_handlers, json_body, problem, scrub
from .settings import Settings
from .strict_json import StrictJsonRoute
from .openapi import install as install_openapi
from .webhooks import install_webhooks
from .decision_log import install_log_routes
from ..store.config import store_for
from ..store.records import decision_of

__all__ = ["Settings", "app_from_env", "create_app", "ruleset_version"]
log = logging.getLogger("dealcoach.service")
CrmKind = Literal["salesforce", "hubspot", "odoo", "fxiaoke", "neocrm"]
RecordQuery = Annotated[str | None, Query(
    alias="record",
    max_length=200, description="The record to use when a 纷享销客 or 销售易 query response holds several: its id or name.",
)]


def _written_as_a_date(value: Any) -> Any:
    """A date in a query must be written YYYY-MM-DD: pydantic alone would also read "0" as 1970-01-01 (Unix time)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_written_as_a_date)]
# A CRM's record or answer as returned: an object, or a list (Odoo search_read's records, Salesforce or 纷享销客 pages).
CrmBody = dict[str, Any] | list[Any]
AsOfQuery = Annotated[IsoDate, Query(description="Evaluation date (YYYY-MM-DD): a CRM record has none, and dealcoach never reads the clock.")]
LangQuery = Annotated[Literal["zh", "en"] | None, Query(description="Render each finding's text in zh or en.")]


# -- answers -----------------------------------------------------------------


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
    deals: list[Any] = Field(
        description="Deal records, each as for /v1/review; an item that is not a valid deal gets an error item in its place."
    )


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


class SkippedRecord(BaseModel):
    """A record of a CRM page that the mapping marks as not coached (won, lost, void)."""

    index: int
    deal_id: str | None
    reason: dict[str, str]


class CrmBatchAnswer(BatchAnswer):
    skipped: list[SkippedRecord] = []
    notes: list[str] = []  # what the input lacks: more pages to fetch, sub-query rows not sent, records the CRM could not read


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
    stages: list[str] | None = None  # a company playbook showed it only in these stages
    summary: str
    rationale: str
    origin: str = "shipped"  # or "company": a rule of the company playbook
    tuned: dict[str, str] = {}  # traits the company playbook changed, with their shipped values
    doc: str


class Health(BaseModel):
    status: str
    version: str
    ruleset_version: str


def as_json(answer: BaseModel) -> Response:
    """The answer serialised once, directly: the route's response_model documents it, and FastAPI does
    not validate the (already valid) report a second time."""
    return Response(json_body(answer), media_type="application/json")


def authoriser(token: str | None):
    """The dependency checking `Authorization: Bearer <token>` (nothing to check without a token).

    Compared as bytes: a header may carry any byte, and the server hands it over as latin-1 text."""
    expected = token.encode("utf-8") if token is not None else None

    def authorised(request: Request) -> None:
        if expected is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode("latin-1"), expected):
            raise StarletteHTTPException(401, "a valid bearer token is required (Authorization: Bearer <token>)")

    return authorised


def ruleset_version(coach: api.Coach) -> str:
    """The rule-set version every answer carries: dealcoach's version and the playbook's tag."""
    return f"{VERSION}+{coach.playbook.version_tag}"


def warm_up(coach: api.Coach, deal_file: str) -> str | None:
    """Review `deal_file` once (the first evaluation builds what later ones reuse); None, or why it failed."""
    try:
        coach.review(deal_file)
    except DealcoachError as error:
        log.error("warm-up evaluation of %s failed: %s", deal_file, error, extra={"event": "warm_up_failed"})
        return str(error)
    except Exception as error:
        log.exception("warm-up evaluation of %s failed", deal_file, extra={"event": "warm_up_failed"})
        return f"unexpected error: {type(error).__name__}"
    return None


def caller_of(request: Request) -> str:
    """Who asked, for the decision log: the X-Dealcoach-Caller header (a CRM or script names itself), else the client's address."""
    named = scrub(request.headers.get("x-dealcoach-caller", "").strip())[:200]
    return named or f"api:{request.client.host if request.client else 'unknown'}"


def _deal_id(document: Any) -> str | None:
    value = document.get("id") if isinstance(document, dict) else None
    return scrub(value) if isinstance(value, str) else None


# -- the application -------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI application for one set of settings (a playbook or mapping that cannot be used fails here)."""
    settings = settings or Settings()
    coach = api.coach(settings.playbook_dir)
    version = ruleset_version(coach)
    mappings = {crm: load_mapping(crm, custom_mapping(settings.mapping_dir, crm)) for crm in KINDS}
    pool = WorkPool(threads=settings.work_threads, queue_size=settings.work_queue, seconds=settings.timeout_seconds)
    metrics = ServiceMetrics() if settings.metrics else None
    not_ready = warm_up(coach, settings.warm_up_deal)
    decision_log = store_for(settings.store) if settings.store else None  # opened and migrated now: a bad location fails at start

    def log_decisions(judged: list[tuple[str, Report | GateResult, Deal]], caller: str) -> None:
        """(decision id, result, deal as evaluated) into the decision log, in one transaction and in this order."""
        if decision_log is None or not judged:
            return
        digest, now = coach.playbook.version_tag, dt.datetime.now(dt.timezone.utc)
        decision_log.record_many(
            decision_of(result, deal, decision_id=decision_id, caller=caller, playbook_digest=digest,
                        logged_at=now + dt.timedelta(microseconds=order))
            for order, (decision_id, result, deal) in enumerate(judged)
        )

    def logged(answer: dict, result: Report | GateResult, deal: Deal, request: Request) -> dict:
        """The answer, once its decision is in the decision log (when the service has one)."""
        log_decisions([(answer["decision_id"], result, deal)], caller_of(request))
        return answer

    def logged_batch(answer: dict, reviewed: list[tuple[int, Report, Deal]], request: Request) -> dict:
        """A batch answer, once each reviewed item is in the decision log as `<decision id>/<item index>` (one transaction)."""
        log_decisions([(f"{answer['decision_id']}/{index}", report, deal) for index, report, deal in reviewed], caller_of(request))
        return answer

    def localise(result, lang: str | None):
        return coach.localise(result, lang) if lang else result

    def decided(**answer) -> dict:
        """The answer with its decision id (noted for the request's log lines) and rule-set version; counted."""
        decision_id = str(uuid.uuid4())
        note_decision(decision_id)
        if metrics is not None:
            metrics.observe_answer(answer)
        return {"decision_id": decision_id, "ruleset_version": version, **answer}

    app = FastAPIOffline(  # FastAPI with /docs' Swagger UI served from the package, not a CDN
        title="dealcoach",
        version=VERSION,
        description="Rules-based deal coaching for key-account sales: review a deal, gate a stage change.",
        redoc_url=None,
        static_url="/docs/assets",
        lifespan=_lifespan,
    )
    authorise = authoriser(settings.token)
    app.state.authorise = authorise  # StrictJsonRoute checks it before reading a body
    v1 = APIRouter(prefix="/v1", route_class=StrictJsonRoute, dependencies=[Depends(authorise)])
    problem_responses = {code: {"model": Problem, "content": {PROBLEM: {}}} for code in (400, 401, 413, 422, 503, 504)}
    crm_responses = {**problem_responses, 404: {"model": Problem, "content": {PROBLEM: {}}}}

    @v1.post("/review", response_model=ReviewAnswer, responses=problem_responses)
    async def review(deal: Deal, request: Request, lang: LangQuery = None):
        """Review one deal: every finding, block risks first."""

        def work(_: Deadline) -> Response:
            report = coach.review(deal)
            return as_json(ReviewAnswer(**logged(decided(report=localise(report, lang)), report, deal, request)))

        return await pool.run(work)

    @v1.post("/gate", response_model=GateAnswer, responses=problem_responses)
    async def gate(deal: Deal, request: Request, to: Annotated[str, Query(description="Target stage: id, Chinese or English name.")],
                   lang: LangQuery = None):
        """May the deal advance to stage `to`? A blocked gate is a normal answer with the reasons."""

        def work(_: Deadline) -> Response:
            judged = coach.gate(deal, to)
            return as_json(GateAnswer(**logged(decided(gate=localise(judged, lang)), judged, deal, request)))

        return await pool.run(work)

    @v1.post("/review/changes", response_model=ChangesAnswer, responses=problem_responses)
    async def review_changes(request: ChangesRequest, lang: LangQuery = None):
        """What changed since the previous version of the deal: new and cleared risks, done actions, movement."""
        return await pool.run(
            lambda _: as_json(ChangesAnswer(**decided(changes=localise(coach.changes(request.previous, request.current), lang))))
        )

    @v1.post("/brief", responses=problem_responses)
    async def brief(
        deal: Deal,
        attendees: Annotated[str, Query(description="Contact ids, comma-separated.")],
        date: Annotated[IsoDate, Query(description="Meeting date.")],
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
        media = {"json": "application/json", "markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}[format]

        def work(_: Deadline) -> Response:
            text = coach.render_brief(coach.brief(deal, people, date, purpose), lang=lang, fmt=format)
            return Response(scrub(text).encode("utf-8"), media_type=media)

        return await pool.run(work)

    def review_item(index: int, document: Any, lang: str | None, reviewed: list[tuple[int, Report, Deal]]) -> BatchItem:
        """One batch item: the review (added to `reviewed` for the log), or the errors in its place (nothing one item
        raises stops the batch)."""
        deal_id = _deal_id(document)
        if not isinstance(document, dict):
            errors = [{"path": "", "message": f"expected a deal (a JSON object), got {json_kind(document)}"}]
            return BatchItem(index=index, deal_id=None, ok=False, errors=errors)
        try:
            deal = coach.deal(document)
            report = coach.review(deal)
            reviewed.append((index, report, deal))
            return BatchItem(index=index, deal_id=deal_id, ok=True, report=localise(report, lang))
        except DealInputError as error:
            errors = [{"path": p.path, "message": p.message} for p in error.problems]
        except DealcoachError as error:
            log.error("engine error on batch item %d: %s", index, error)
            errors = [{"path": "", "message": "dealcoach could not evaluate this deal; the error is logged"}]
        except Exception:
            log.exception("unexpected error on batch item %d", index)
            errors = [{"path": "", "message": "unexpected error; the error is logged"}]
        return BatchItem(index=index, deal_id=deal_id, ok=False, errors=errors)

    @v1.post("/review/batch", response_model=BatchAnswer, responses=problem_responses)
    async def review_batch(batch: BatchRequest, request: Request, lang: LangQuery = None):
        """Review up to max_batch deals; a bad deal gets an error item in its place, the others are reviewed."""
        if len(batch.deals) > settings.max_batch:
            return problem(413, "Batch too large", f"{len(batch.deals)} deals; the limit is {settings.max_batch}")

        def work(deadline: Deadline) -> Response:
            items, reviewed = [], []
            for index, document in enumerate(batch.deals):
                if deadline.passed():
                    raise OverTime("the batch took longer than the service's time limit")
                items.append(review_item(index, document, lang, reviewed))
            return as_json(BatchAnswer(**logged_batch(decided(results=items), reviewed, request)))

        return await pool.run(work)

    def from_crm(crm: str, record: CrmBody, as_of: dt.date, choose: str | None) -> dict:
        try:
            return coach.from_crm(crm, record, as_of=as_of, mapping=mappings[crm], label=f"{crm} record", choose=choose)
        except RecordChoiceError as error:
            hint = "; choose one with ?record=ID or name, or review them all with POST /v1/crm/{crm}/review/batch" if choose is None else ""
            raise RecordChoiceError(error.source, [InputProblem("record", error.problems[0].message + hint.format(crm=crm))]) from None

    @v1.post("/crm/{crm}/review", response_model=ReviewAnswer, responses=crm_responses)
    async def review_crm_record(crm: CrmKind, record: CrmBody, as_of: AsOfQuery, request: Request, lang: LangQuery = None,
                                choose: RecordQuery = None):
        """Review a CRM's own record (Salesforce Opportunity, HubSpot deal bundle, Odoo crm.lead), or one record of a
        纷享销客 or 销售易 query response (`record` names it when the page holds several), through its mapping."""

        def work(_: Deadline) -> Response:
            deal = coach.deal(from_crm(crm, record, as_of, choose))
            report = coach.review(deal)
            return as_json(ReviewAnswer(**logged(decided(report=localise(report, lang)), report, deal, request)))

        return await pool.run(work)

    @v1.post("/crm/{crm}/gate", response_model=GateAnswer, responses=crm_responses)
    async def gate_crm_record(
        crm: CrmKind, record: CrmBody, as_of: AsOfQuery, request: Request,
        to: Annotated[str, Query(description="Target stage: id, Chinese or English name.")], lang: LangQuery = None,
        choose: RecordQuery = None,
    ):
        """Gate a CRM record's stage change, e.g. before the CRM saves it."""

        def work(_: Deadline) -> Response:
            deal = coach.deal(from_crm(crm, record, as_of, choose))
            judged = coach.gate(deal, to)
            return as_json(GateAnswer(**logged(decided(gate=localise(judged, lang)), judged, deal, request)))

        return await pool.run(work)

    @v1.post("/crm/{crm}/review/batch", response_model=CrmBatchAnswer, responses=crm_responses)
    async def review_crm_page(crm: CrmKind, record: CrmBody, as_of: AsOfQuery, request: Request, lang: LangQuery = None):
        """Review every record of a CRM input: a 纷享销客 or 销售易 query response (or bundle) is a page of deals; a
        record that cannot be converted or reviewed gets an error item in its place, one the mapping skips is listed
        under `skipped`. The CRM's error answer is a 422 naming its code and message."""

        def work(deadline: Deadline) -> Response:
            converted = coach.crm_records(crm, record, as_of=as_of, mapping=mappings[crm], label=f"{crm} record")
            if len(converted) > settings.max_batch:
                return problem(413, "Batch too large", f"{len(converted)} records; the limit is {settings.max_batch}")
            items, skipped, reviewed = [], [], []
            for entry in converted:
                if deadline.passed():
                    raise OverTime("the batch took longer than the service's time limit")
                if entry.skipped is not None:
                    reason = {"path": entry.skipped.path, "message": entry.skipped.message}
                    skipped.append(SkippedRecord(index=entry.index, deal_id=entry.record_id, reason=reason))
                elif entry.error is not None:
                    errors = [{"path": p.path, "message": p.message} for p in entry.error.problems]
                    items.append(BatchItem(index=entry.index, deal_id=entry.record_id, ok=False, errors=errors))
                else:
                    items.append(review_item(entry.index, entry.document, lang, reviewed))
            return as_json(CrmBatchAnswer(**logged_batch(decided(results=items, skipped=skipped, notes=converted.notes), reviewed, request)))

        return await pool.run(work)

    install_log_routes(v1, decision_log, coach, caller_of, pool)

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

    @app.get("/v1/ready", response_model=Health, responses={503: {"model": Problem, "content": {PROBLEM: {}}}})
    def ready():
        """Readiness: 200 once the engine is built and a warm-up evaluation has succeeded, else 503; needs no token."""
        if not_ready is not None:
            return problem(503, "Not ready", f"the warm-up evaluation failed: {not_ready}")
        return Health(status="ready", version=VERSION, ruleset_version=version)

    if metrics is not None:
        guard = [] if settings.public_metrics else [Depends(authorise)]

        @app.get("/metrics", include_in_schema=False, dependencies=guard)
        def prometheus_metrics():
            """Prometheus metrics (text format); needs the token when the service has one, unless public_metrics."""
            return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    app.include_router(v1)
    def log_webhook_review(crm: str, document: dict, synced) -> None:
        """A record a CRM webhook had reviewed (and gated), in the decision log, with the CRM as the caller."""
        if decision_log is None:
            return
        judged = []
        if synced.gate is not None:  # judged as the move from the stage before (the deal as it stood there), so logged before the review
            judged.append((str(uuid.uuid4()), synced.gate, coach.deal({**document, "stage": synced.gate.from_stage.id})))
        judged.append((str(uuid.uuid4()), synced.report, coach.deal(document)))
        log_decisions(judged, f"webhook:{crm}")

    def log_webhook_closed(crm: str, data: Any) -> None:
        """The outcome of a record the CRM shows won or lost, in the decision log."""
        if decision_log is None:
            return
        try:
            for outcome in closed_outcomes(crm, data, source=f"{crm} webhook").outcomes:
                decision_log.record_outcome(outcome)
        except DealcoachError as error:  # an answer the outcome reader cannot read, or the log refused it: the review goes on
            log.warning("no outcome recorded from a %s record: %s", crm, error)

    install_webhooks(app, coach, mappings, pool, version, token=settings.token, webhook_token=settings.webhook_token,
                     crm_config=settings.crm_config, public_url=settings.public_url, decision_id=lambda: decided()["decision_id"],
                     log_review=log_webhook_review, log_closed=log_webhook_closed)
    install_openapi(app, token_required=settings.token is not None)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(ContainErrors)  # whatever escapes is still a complete answer
    app.add_middleware(Observe, access=settings.access_log, metrics=metrics)  # outermost: every answer has a request id
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Nothing to start; when the server stops, the log lines still waiting are written."""
    yield
    await asyncio.to_thread(flush_logs)


def custom_mapping(directory: str | None, crm: str) -> Path | None:
    """The company's mapping file for `crm` in the service's mapping directory, if it has one."""
    custom = Path(directory) / f"{crm}.yaml" if directory else None
    return custom if custom and custom.exists() else None


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (what `dealcoach serve` runs in every worker)."""
    return create_app(Settings.from_env())
