"""CRM webhooks: a deal changed in the CRM → read it back, review it (gate a stage change), write the coaching back.

- `POST /v1/webhooks/hubspot`: HubSpot's webhook events (a JSON array; `deal.creation`, `deal.propertyChange`).
  The `X-HubSpot-Signature-v3` is verified with the app's client secret over method, URI, body and
  `X-HubSpot-Request-Timestamp`; a timestamp more than five minutes off is refused, and so is a request seen
  before (replay). HubSpot cannot wait for an answer, so a blocked stage change is flagged on the deal (the
  gate field, a note naming what is unmet, tasks) for a workflow to act on.
- `POST /v1/webhooks/salesforce`: a Flow's HTTP callout (`{"opportunity_id": ..., "to_stage": ...}`) or a
  Change Data Capture event (`{"payload": {"ChangeEventHeader": {...}, "StageName": ...}, "event": {"replayId": ...}}`);
  bearer token as the rest of /v1. With `?refuse=true` a blocked gate answers 409, so the Flow takes its fault
  path and does not save the stage.
- `POST /v1/webhooks/odoo?token=...[&gate=true]`: an automation rule's "Send Webhook Notification" (`{"_model":
  "crm.lead", "_id": 42, ...}`); Odoo cannot send headers, so a secret of its own (DEALCOACH_WEBHOOK_TOKEN, not the
  service token) comes in the query; `gate=true` on the rule triggered by a stage change.

A webhook that writes into the CRM is never open: without its secret configured it answers 503. Each write is
idempotent (crm.writeback), so the CRM notifying dealcoach of dealcoach's own writes settles after one round.

Each answer lists, per deal, the review (or gate) and every write with the CRM's answer. The CRM's URL and
credentials come from the connections file or DEALCOACH_<CRM>_* (crm.connections).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from ..crm.client import CrmClient
from ..crm.connections import CrmConnectionError, connection
from ..crm.convert import records
from ..crm.sync import Synced, previous_stage, sync_record
from ..engine.errors import DealInputError, InputProblem
from .limits import WorkPool
from .problems import PROBLEM, Problem, json_body, problem

log = logging.getLogger("dealcoach.service")
SIGNATURE_WINDOW_MS = 5 * 60 * 1000  # HubSpot's own advice: refuse a request whose timestamp is over five minutes off
MAX_EVENTS = 100  # HubSpot sends at most 100 events in one request
# Characters HubSpot decodes in the request URI before signing it.
_HUBSPOT_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(", "%29": ")",
                    "%2A": "*", "%2C": ",", "%3B": ";"}


class WebhookDeal(BaseModel):
    """What happened to one deal: its review or gate, and each write with the CRM's answer."""

    deal_id: str | None
    ok: bool
    grade: str | None = None
    blocking: int | None = None
    gate: dict[str, Any] | None = None
    writes: list[dict[str, Any]] = []
    problems: list[str] = []
    skipped: str | None = None


class WebhookAnswer(BaseModel):
    decision_id: str
    ruleset_version: str
    deals: list[WebhookDeal]
    duplicate: bool = False


# The request bodies as documented in the OpenAPI contract (the handlers read them by hand, to answer each CRM its way).
_HUBSPOT_EVENT_EXAMPLE = {"eventId": 1, "subscriptionId": 2861234, "portalId": 62515, "appId": 1160452, "occurredAt": 1795680000000,
                          "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 18523467955,
                          "propertyName": "dealstage", "propertyValue": "contractsent", "changeSource": "CRM"}
HUBSPOT_BODY = {"required": True, "content": {"application/json": {
    "schema": {"type": "array", "maxItems": MAX_EVENTS, "items": {"type": "object", "additionalProperties": True, "properties": {
        "eventId": {"type": "integer"}, "subscriptionType": {"type": "string", "examples": ["deal.propertyChange"]},
        "objectId": {"type": "integer"}, "propertyName": {"type": "string"}, "propertyValue": {"type": "string"},
        "occurredAt": {"type": "integer", "description": "epoch milliseconds: the evaluation date"}}},
        "description": "HubSpot's webhook events, as HubSpot sends them (signed with X-HubSpot-Signature-v3)"},
    "example": [_HUBSPOT_EVENT_EXAMPLE]}}}
SALESFORCE_BODY = {"required": True, "content": {"application/json": {
    "schema": {"anyOf": [
        {"type": "object", "title": "FlowCallout", "required": ["opportunity_id"], "additionalProperties": False, "properties": {
            "opportunity_id": {"type": "string", "pattern": "^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$"},
            "to_stage": {"type": "string", "description": "the StageName the Flow is about to set; left out, the move just saved"},
            "as_of": {"type": "string", "format": "date", "description": "the evaluation date (default: the day it arrives)"}}},
        {"type": "object", "title": "OpportunityChangeEvent", "required": ["payload"], "additionalProperties": True, "properties": {
            "payload": {"type": "object", "additionalProperties": True, "required": ["ChangeEventHeader"],
                        "properties": {"ChangeEventHeader": {"type": "object", "additionalProperties": True}}},
            "event": {"type": "object", "additionalProperties": True, "properties": {"replayId": {"type": "integer"}}}}}]},
    "example": {"opportunity_id": "0065g00000AbCdEAAV", "to_stage": "Negotiation/Review", "as_of": "2026-11-20"}}}}
ODOO_BODY = {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["_id"], "additionalProperties": True, "properties": {
        "_model": {"type": "string", "enum": ["crm.lead"]}, "_id": {"type": "integer"}, "write_date": {"type": "string"}}},
    "example": {"_action": "Send Webhook Notification(#41)", "_model": "crm.lead", "_id": 57, "write_date": "2026-11-20 08:00:00"}}}}


class Accepted(BaseModel):
    """Events taken: the deals that will be read back, reviewed and written (each outcome is logged)."""

    decision_id: str
    ruleset_version: str
    deals: list[str]


def _deal_event(event: dict) -> bool:
    """A deal created or changed (not deleted, merged or restored): `deal.*` or the generic `object.*` of type 0-3."""
    kind = str(event.get("subscriptionType", ""))
    return kind in ("deal.creation", "deal.propertyChange") or (
        kind in ("object.creation", "object.propertyChange") and str(event.get("objectTypeId")) == "0-3")


class SeenRequests:
    """Requests seen lately (by signature or replay id), so a replayed one is refused; bounded in size and time."""

    def __init__(self, keep_ms: int = SIGNATURE_WINDOW_MS * 2, limit: int = 10_000, clock: Callable[[], float] = time.time):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self.keep_ms, self.limit, self.clock = keep_ms, limit, clock

    def first_time(self, key: str) -> bool:
        """Whether `key` is new; it is seen from now on."""
        with self._lock:
            self._forget_old()
            if key in self._seen:
                return False
            self._seen[key] = self.clock() * 1000
            return True

    def known(self, key: str) -> bool:
        with self._lock:
            self._forget_old()
            return key in self._seen

    def _forget_old(self) -> None:
        now = self.clock() * 1000
        while self._seen and (len(self._seen) >= self.limit or next(iter(self._seen.values())) < now - self.keep_ms):
            self._seen.popitem(last=False)


class Jobs:
    """Webhook work done after the answer, one job at a time on a thread of its own (no request time limit: a
    batch of 100 deals takes what it takes); `wait()` returns when every job so far is done."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dealcoach-webhooks")
        self._pending: list[Future] = []
        self._lock = threading.Lock()

    def submit(self, work: Callable[[], None]) -> None:
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._executor.submit(work))

    def wait(self, timeout: float | None = None) -> None:
        with self._lock:
            pending = list(self._pending)
        futures_wait(pending, timeout=timeout)


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The X-HubSpot-Signature-v3 of a request: base64 HMAC-SHA256 of method + URI + body + timestamp."""
    source = method.encode() + uri.encode("utf-8") + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), source, hashlib.sha256).digest()).decode("ascii")


def _hubspot_uri(request: Request, public_url: str | None) -> str:
    """The URI HubSpot signed: the public URL it called (behind a proxy, DEALCOACH_PUBLIC_URL), with its decodings."""
    uri = (public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")) if public_url else str(request.url)
    for encoded, plain in _HUBSPOT_DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri


def _deal(synced: Synced) -> WebhookDeal:
    return WebhookDeal(**synced.summary())  # the summary's `planned` (requests not sent) is not part of a webhook's answer


def install_webhooks(app: FastAPI, coach, mappings: dict, pool: WorkPool, version: str, *, token: str | None, webhook_token: str | None = None,
                     crm_config: str | None = None, public_url: str | None = None, clock: Callable[[], float] = time.time,
                     decision_id: Callable[[], str] = lambda: str(uuid.uuid4()),
                     log_review: Callable[[str, dict, Synced], None] | None = None,
                     log_closed: Callable[[str, Any], None] | None = None) -> None:
    """Add the three CRM webhook endpoints to `app` (each checks its caller its own way). For the decision log,
    `log_review(crm, deal document, synced)` is told of every record reviewed, `log_closed(crm, data)` of every
    record read (whose outcome it records when the CRM shows it won or lost)."""
    seen = SeenRequests(clock=clock)
    jobs = app.state.webhook_jobs = Jobs()
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
    refusals = {code: {"model": Problem, "content": {PROBLEM: {}}} for code in (400, 401, 409, 422, 503)}

    def client_for(kind: str, needs: tuple[str, ...] = ("url",)) -> CrmClient:
        return CrmClient(connection(kind, crm_config, needs=needs))

    def handle(kind: str, client: CrmClient, changes: list[tuple[str, bool | str, str | None]]) -> list[Synced]:
        """Fetch, review and write back each (record id, change, when) once, evaluated on the day the CRM says the
        change happened (the day it arrives, when the CRM does not say). The change is True for a stage change
        already saved (gated as the move from the stage before), a CRM stage name for a move about to be made
        (gated from the present stage to it), or False (reviewed)."""
        mapping = mappings[kind]
        done: list[Synced] = []
        merged: dict[str, tuple[bool | str, str | None]] = {}
        for record_id, change, when in changes:
            before = merged.get(record_id, (False, None))
            merged[record_id] = (change if isinstance(change, str) else before[0] or change, max(filter(None, (before[1], when)), default=None))
        for record_id, (change, when) in merged.items():
            try:
                data = client.fetch(record_id, mapping)
                if log_closed is not None:
                    log_closed(kind, data)
                converted = records(kind, data, as_of=when or _day(clock() * 1000), mapping=mapping, source=f"{kind} {record_id}")
            except DealInputError as error:
                done.append(Synced(record_id, record_id, problems=[str(p) for p in error.problems]))
                continue
            if not converted:
                done.append(Synced(record_id, record_id, problems=[f"{kind} has no such record (deleted, or not visible to the API user)"]))
            for one in converted:
                try:
                    gate = _gate_of(one, change, mapping) if change else None
                except DealInputError as error:
                    done.append(Synced(one.record_id, one.shown, problems=[str(p) for p in error.problems]))
                    continue
                done.append(sync_record(coach, kind, one, mapping, client, gate=gate))
                if log_review is not None and done[-1].report is not None:
                    log_review(kind, one.document, done[-1])
        return done

    def _gate_of(converted, change: bool | str, mapping) -> tuple[str, str] | None:
        """(from, to) stages of the move to judge, or None when the record could not be converted."""
        present = (converted.document or {}).get("stage")
        if present is None:
            return None
        if isinstance(change, str):
            target = mapping.stages.get(change)
            if target is None:
                raise DealInputError("to_stage", [InputProblem("to_stage", f"stage {change!r} is not in the mapping; mapped: "
                                                                           + ", ".join(map(repr, mapping.stages)))])
            if target.stage != present:
                return _advance(present, target.stage, converted)
        before = previous_stage(mapping.crm, converted, mapping, coach)
        return _advance(before, present, converted) if before else None

    def _advance(start: str, end: str, converted) -> tuple[str, str] | None:
        """(start, end) when it is a move forward in the deal's stage model; a move back is not gated."""
        model = coach.playbook.stage_models.get((converted.document or {}).get("stage_model", ""))
        first, last = (model.find_stage(start), model.find_stage(end)) if model else (None, None)
        return (start, end) if first is not None and last is not None and last > first else None

    def answer(outcomes: list[Synced], *, refuse: bool = False, lang: str = "zh") -> Response:
        """The outcome per deal; with `refuse`, a blocked gate is a 409 whose detail names what is unmet and what blocks."""
        blocked = [s for s in outcomes if s.gate is not None and not s.gate.allowed]
        if refuse and blocked:
            reasons = []
            for synced in blocked:
                gate = coach.localise(synced.gate, lang)
                reasons += [InputProblem(synced.record_id or "", m.name.get(lang, m.id)) for m in gate.unmet_milestones]
                reasons += [InputProblem(synced.record_id or "", f.text.title if f.text else f.code) for f in gate.blocking]
            target = blocked[0].gate.to_stage.name.get(lang, blocked[0].gate.to_stage.id)
            detail = f"the gate to {target} is blocked: " + "; ".join(p.message for p in reasons[:5])
            return problem(409, "Stage change refused", detail, reasons)
        body = WebhookAnswer(decision_id=decision_id(), ruleset_version=version, deals=[_deal(s) for s in outcomes])
        return Response(json_body(body), media_type="application/json")

    def unconfigured(error: CrmConnectionError) -> Response:
        return problem(503, "CRM not configured", str(error))

    @router.post("/hubspot", status_code=202, response_model=Accepted, responses=refusals, openapi_extra={"requestBody": HUBSPOT_BODY})
    async def hubspot(request: Request):
        """HubSpot webhook events, signed (X-HubSpot-Signature-v3): answered at once (202, the deals accepted); then
        each deal created or changed is read back, reviewed (a stage change gated) and the coaching written on it,
        each outcome logged. An event already received (its eventId) is not processed again."""
        try:
            client = client_for("hubspot", needs=("url", "token", "client_secret"))
        except CrmConnectionError as error:
            return unconfigured(error)
        body = await request.body()
        timestamp = request.headers.get("x-hubspot-request-timestamp", "")
        given = request.headers.get("x-hubspot-signature-v3", "")
        if not timestamp.isdigit() or abs(clock() * 1000 - int(timestamp)) > SIGNATURE_WINDOW_MS:
            return problem(401, "Unauthorised", "X-HubSpot-Request-Timestamp is missing or more than five minutes off: refused")
        expected = hubspot_signature(client.connection.client_secret or "", request.method, _hubspot_uri(request, public_url), body, timestamp)
        if not secrets.compare_digest(given.encode("latin-1", "replace"), expected.encode("ascii")):
            return problem(401, "Unauthorised", "X-HubSpot-Signature-v3 does not match this request (check the app's client secret "
                                                "and, behind a proxy, DEALCOACH_PUBLIC_URL)")
        if not seen.first_time(f"hubspot:{expected}"):
            return problem(409, "Replayed request", "this signed request was already received: refused")
        try:
            events = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return problem(400, "Malformed JSON", f"the request body is not valid JSON: {error}")
        if not isinstance(events, list) or len(events) > MAX_EVENTS or not all(isinstance(e, dict) for e in events):
            return problem(422, "Invalid request", f"expected HubSpot's array of at most {MAX_EVENTS} event objects")
        taken = [e for e in events if _deal_event(e) and str(e.get("objectId", "")).isdigit() and not seen.known(_event_key(e))]
        changes = [(str(e.get("objectId")), e.get("propertyName") == "dealstage", _day(e.get("occurredAt"))) for e in taken]
        decision = decision_id()

        def work() -> None:  # after the answer: HubSpot waits five seconds at most, then sends the events again
            try:
                outcomes = handle("hubspot", client, changes)
            except Exception:  # noqa: BLE001 - nothing to answer any more: logged, and the events stay unseen for HubSpot's retry
                log.exception("hubspot webhook %s failed", decision, extra={"event": "webhook_failed", "decision_id": decision})
                return
            for event in taken:
                seen.first_time(_event_key(event))
            for outcome in outcomes:
                log.info("hubspot webhook: %s", json.dumps(outcome.summary(), ensure_ascii=False),
                         extra={"event": "webhook_deal", "decision_id": decision})

        jobs.submit(work)
        accepted = Accepted(decision_id=decision, ruleset_version=version, deals=list(dict.fromkeys(c[0] for c in changes)))
        return Response(json_body(accepted), status_code=202, media_type="application/json")

    @router.post("/salesforce", response_model=WebhookAnswer, responses=refusals, dependencies=[Depends(app.state.authorise)],
                 openapi_extra={"requestBody": SALESFORCE_BODY})
    async def salesforce(
        request: Request, payload: dict[str, Any],
        refuse: Annotated[bool, Query(description="Answer a blocked gate with 409, so a Flow takes its fault path.")] = False,
    ):
        """A Flow's callout on a stage change (`opportunity_id`, `to_stage`), or an Opportunity Change Data Capture
        event: the deal is read back, reviewed (the stage change gated), and the coaching written on it."""
        if token is None:
            return problem(503, "Webhook not configured", "Salesforce webhooks need the service's bearer token (--token-file or "
                                                          "DEALCOACH_API_TOKEN): a webhook that writes into the CRM is never open")
        try:
            client = client_for("salesforce")
        except CrmConnectionError as error:
            return unconfigured(error)
        header = (payload.get("payload") or {}).get("ChangeEventHeader") if isinstance(payload.get("payload"), dict) else None
        if isinstance(header, dict):
            replay = (payload.get("event") or {}).get("replayId") if isinstance(payload.get("event"), dict) else None
            if replay is not None and not seen.first_time(f"salesforce:{header.get('entityName')}:{replay}"):
                return Response(json_body(WebhookAnswer(decision_id=decision_id(), ruleset_version=version, deals=[], duplicate=True)),
                                media_type="application/json")
            if header.get("entityName") != "Opportunity":
                return problem(422, "Invalid request", f"a change event of {header.get('entityName')!r}: subscribe to OpportunityChangeEvent")
            ids, fields = header.get("recordIds"), header.get("changedFields") or []
            if not isinstance(ids, list) or not isinstance(fields, list):
                return problem(422, "Invalid request", "ChangeEventHeader.recordIds and changedFields must be lists, as Salesforce sends them")
            changed = header.get("changeType") == "UPDATE" and "StageName" in fields
            when = _day(header.get("commitTimestamp"))
            changes = [(i, changed, when) for i in ids if isinstance(i, str)]
        elif isinstance(payload.get("opportunity_id"), str):
            target = payload.get("to_stage")
            changes = [(payload["opportunity_id"], target if isinstance(target, str) and target else True, _day(payload.get("as_of")))]
        else:
            return problem(422, "Invalid request", "expected a Flow callout {\"opportunity_id\": ...} or an Opportunity change event "
                                                   "{\"payload\": {\"ChangeEventHeader\": ...}}")
        lang = mappings["salesforce"].writeback.lang
        return await pool.run(lambda _: answer(handle("salesforce", client, changes), refuse=refuse, lang=lang))

    @router.post("/odoo", response_model=WebhookAnswer, responses=refusals, openapi_extra={"requestBody": ODOO_BODY})
    async def odoo(
        payload: dict[str, Any],
        token_given: Annotated[str | None, Query(alias="token", description="The webhook token (DEALCOACH_WEBHOOK_TOKEN).")] = None,
        gate: Annotated[bool, Query(description="The rule fires on a stage change: judge the move.")] = False,
    ):
        """An Odoo automation rule's webhook on crm.lead: the lead is read back, reviewed (with ?gate=true, from a rule
        triggered by a stage change, the move is gated), and the coaching written on it."""
        if webhook_token is None:
            return problem(503, "Webhook not configured", "Odoo webhooks need DEALCOACH_WEBHOOK_TOKEN, the secret Odoo sends as ?token=")
        if not secrets.compare_digest((token_given or "").encode("utf-8", "replace"), webhook_token.encode("utf-8")):
            return problem(401, "Unauthorised", "a valid ?token= is required (Odoo's webhook cannot send an Authorization header)")
        try:
            client = client_for("odoo")
        except CrmConnectionError as error:
            return unconfigured(error)
        lead = payload.get("_id", payload.get("id"))
        if payload.get("_model", "crm.lead") != "crm.lead" or not isinstance(lead, int) or isinstance(lead, bool):
            return problem(422, "Invalid request", "expected an Odoo webhook payload of a crm.lead record "
                                                   "({\"_model\": \"crm.lead\", \"_id\": 42, ...})")
        when = _day(payload.get("write_date") or payload.get("date_last_stage_update"))
        return await pool.run(lambda _: answer(handle("odoo", client, [(f"crm.lead/{lead}", gate, when)])))

    app.include_router(router)


def _event_key(event: dict) -> str:
    return f"hubspot-event:{event.get('eventId')}"


def _day(value: Any) -> str | None:
    """The UTC day of a CRM's event time (epoch milliseconds, or an ISO date or timestamp); None when it gives none
    (or one no calendar holds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        try:
            return time.strftime("%Y-%m-%d", time.gmtime(value / 1000))
        except (OverflowError, ValueError, OSError):
            return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


