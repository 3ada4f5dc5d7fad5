"""The coaching as each CRM stores it: a note on the deal, a few fields, and a task per first move.

A rep never leaves the CRM, so the review is written back onto the deal record:

- **fields**: grade, number of blocking risks, the next milestone, the review date and a fingerprint of the
  coaching (custom fields the admin creates; the mapping's `writeback.fields` names them, and a field left
  out is not written);
- **a note**: the header, the first moves and the blocking risks, in the rep's language (`writeback.lang`);
- **tasks**: one per first move (`writeback.tasks`, at most), due when the review says ("this week" → 7 days
  after the review date), assigned to the deal's owner when the record names one.

Every write is idempotent, so a sync every night (or a CRM that notifies dealcoach of dealcoach's own writes)
settles instead of looping: a field already holding its value is not written, and the note and tasks are
written only when the coaching changed — when the record's fingerprint field differs from this review's. The
fingerprint is written last, and only once the note and tasks are in: a note that failed is tried again on
the next run, a note that went in is not written twice.

`plan()` gives the CRM's own requests (`Write`): Salesforce one Composite API request (Opportunity PATCH,
ContentNote + ContentDocumentLink, Tasks), HubSpot a deal PATCH, a note and a batch of tasks with their v4
associations to the deal, Odoo JSON-RPC `execute_kw` calls (`write`, `message_post`, `activity_schedule`).
They are the payloads an integrator can send; `crm.client` sends them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
from dataclasses import dataclass, field
from typing import Any

from ..engine.rendering import deadline
from ..engine.report import GateResult, Report, Severity
from .common import Mapping, get_path

WRITEBACK_CRMS = ("salesforce", "hubspot", "odoo")
DUE_DAYS = {"now": 1, "this_week": 7, "two_weeks": 14, "this_month": 30}
SALESFORCE_API = "v62.0"
# HubSpot's HUBSPOT_DEFINED association type ids: note → deal, task → deal (CRM API v4 association types).
HUBSPOT_NOTE_TO_DEAL = 214
HUBSPOT_TASK_TO_DEAL = 216
SUBJECT_LENGTH = 255  # Salesforce Task.Subject; HubSpot and Odoo take it too


@dataclass(frozen=True)
class Task:
    subject: str
    description: str
    due: dt.date
    urgent: bool


@dataclass(frozen=True)
class Coaching:
    """What is written back on one deal, in one language."""

    record_id: str  # the CRM's own id of the deal record
    grade: str
    blocking: int
    next_milestone: str
    reviewed: dt.date
    fingerprint: str
    title: str
    note: str
    tasks: list[Task]
    gate: str = ""  # for a gated stage change: "allowed → <stage>" or "blocked → <stage>"
    owner: str | None = None  # the CRM user the tasks go to
    changed: bool = True  # False when the record already carries this fingerprint: no note, no tasks
    current: dict[str, str] = field(default_factory=dict)  # the record's write-back fields as sent (CRM name → value as text)


@dataclass(frozen=True)
class Write:
    """One request to the CRM's API, relative to its base URL; `what` says what it writes."""

    what: str
    method: str
    path: str
    body: Any = None
    parts: list[str] = field(default_factory=list)  # a composite request's sub-requests, by what they write


def fingerprint(report: Report, gate: GateResult | None = None) -> str:
    """A short hash of what the coaching asks for (grade, blocking risks, first moves, a gate's verdict), the same
    in every language."""
    shown = [c for c in report.cards if not c.folded]
    blocking = sorted((f.code, f.subject or "") for f in report.findings if f.severity == Severity.BLOCK)
    firsts = [(c.key, tuple(f.code for f in c.findings)) for c in shown[:3]]
    verdict = None if gate is None else (
        gate.to_stage.id, gate.allowed, tuple(f.code for f in gate.blocking), tuple(m.id for m in gate.unmet_milestones))
    text = repr((report.grade, report.stage.id, blocking, firsts, verdict))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _field(kind: str, record: dict, name: str) -> Any:
    """A field of the CRM's raw deal record (HubSpot keeps them under `properties`)."""
    return get_path(record, f"properties.{name}" if kind == "hubspot" else name, false_is_empty=True)


def _owner(kind: str, record: dict) -> str | None:
    value = {"salesforce": lambda: record.get("OwnerId"), "hubspot": lambda: _field("hubspot", record, "hubspot_owner_id"),
             "odoo": lambda: (record.get("user_id") or [None])[0] if isinstance(record.get("user_id"), list) else None}[kind]()
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    """A field value as text, to compare what the record holds with what would be written (false and null are empty)."""
    if value is None or value is False:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def coaching(coach, report: Report, kind: str, record_id: str, record: dict, mapping: Mapping, gate: GateResult | None = None) -> Coaching:
    """The coaching of a deal reviewed at its present stage as `kind` stores it, worded in the mapping's
    `writeback.lang`. For a gated stage change, the `gate` field gives the verdict and, when the move is blocked,
    the note is the gate's answer (what is unmet, what blocks); the fields and tasks are the present stage's."""
    settings = mapping.writeback
    lang = settings.lang
    localised = coach.renderer.localise(report, lang, shown_only=True)  # the note and tasks say only what a review shows
    renderer = coach.renderer
    shown = [c for c in localised.cards if not c.folded and c.text is not None]
    tasks = []
    for card in shown[: settings.tasks]:
        if not card.text.first:
            continue
        when = deadline(card.findings[0], localised)
        subject = renderer.fill(lang, "crm_note.task", first=card.text.first)
        tasks.append(Task(
            subject=subject if len(subject) <= SUBJECT_LENGTH else subject[: SUBJECT_LENGTH - 1] + "…",
            description=f"{card.text.title}\n{card.text.why}\n{card.text.action}".strip(),
            due=localised.as_of + dt.timedelta(days=DUE_DAYS[when]),
            urgent=card.severity == Severity.BLOCK or when == "now",
        ))
    print_ = fingerprint(report, gate)
    current = {name: _text(_field(kind, record, name)) for name in settings.fields.values()}
    known = current.get(settings.fields["fingerprint"]) if "fingerprint" in settings.fields else None
    milestones = renderer.milestone_names(localised, lang)
    return Coaching(
        record_id=record_id,
        grade=(localised.grade or "") + ("?" if localised.grade_to_confirm else ""),
        blocking=len(localised.blocking),
        next_milestone=milestones[0] if milestones else "",
        reviewed=localised.as_of,
        fingerprint=print_,
        title=renderer.fill(lang, "crm_note.title", date=localised.as_of.isoformat()),
        note=coach.render(gate, lang=lang) if gate is not None and not gate.allowed else renderer.crm_note(localised, lang),
        gate="" if gate is None else ("allowed" if gate.allowed else "blocked") + f" → {gate.to_stage.name[lang]}",
        tasks=tasks,
        owner=_owner(kind, record),
        changed=known != print_,
        current=current,
    )


def _values(coaching: Coaching, mapping: Mapping) -> dict[str, Any]:
    """The write-back fields (the fingerprint apart) whose value changes, under the CRM's names. The gate field
    records the last stage change judged: a plain review leaves it as it is."""
    values = {"grade": coaching.grade, "blocking": coaching.blocking, "next_milestone": coaching.next_milestone,
              "reviewed": coaching.reviewed.isoformat(), "gate": coaching.gate}
    return {name: values[key] for key, name in mapping.writeback.fields.items()
            if key in values and (key != "gate" or coaching.gate) and _text(values[key]) != coaching.current.get(name)}


def _fingerprint(coaching: Coaching, mapping: Mapping) -> dict[str, str]:
    """The fingerprint field to write last, when the coaching changed."""
    name = mapping.writeback.fields.get("fingerprint")
    return {name: coaching.fingerprint} if name and coaching.changed else {}


def _html(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" if line.strip() else "" for line in text.splitlines())


def _salesforce(coaching: Coaching, mapping: Mapping) -> list[Write]:
    base = f"/services/data/{SALESFORCE_API}"
    record = f"{base}/sobjects/Opportunity/{coaching.record_id}"
    values = _values(coaching, mapping)
    requests: list[dict] = [{"method": "PATCH", "url": record, "referenceId": "fields", "body": values}] if values else []
    if coaching.changed and mapping.writeback.note:
        content = base64.b64encode(_html(coaching.note).encode("utf-8")).decode("ascii")
        requests += [
            {"method": "POST", "url": f"{base}/sobjects/ContentNote", "referenceId": "note", "body": {"Title": coaching.title, "Content": content}},
            {"method": "POST", "url": f"{base}/sobjects/ContentDocumentLink", "referenceId": "noteLink",
             "body": {"ContentDocumentId": "@{note.id}", "LinkedEntityId": coaching.record_id, "ShareType": "V"}},
        ]
    for number, task in enumerate(coaching.tasks if coaching.changed else [], 1):
        body = {"WhatId": coaching.record_id, "Subject": task.subject, "Description": task.description,
                "ActivityDate": task.due.isoformat(), "Status": "Not Started", "Priority": "High" if task.urgent else "Normal"}
        if coaching.owner:
            body["OwnerId"] = coaching.owner
        requests.append({"method": "POST", "url": f"{base}/sobjects/Task", "referenceId": f"task{number}", "body": body})
    writes = [Write("composite", "POST", f"{base}/composite", {"allOrNone": False, "compositeRequest": requests},
                    parts=[r["referenceId"] for r in requests])] if requests else []
    last = _fingerprint(coaching, mapping)
    return writes + ([Write("fingerprint", "PATCH", record, last)] if last else [])


def _hubspot_timestamp(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _hubspot(coaching: Coaching, mapping: Mapping) -> list[Write]:
    to_deal = lambda type_id: [{"to": {"id": coaching.record_id}, "types": [  # noqa: E731
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}]
    deal = f"/crm/v3/objects/deals/{coaching.record_id}"
    values = _values(coaching, mapping)
    writes = [Write("fields", "PATCH", deal, {"properties": {k: str(v) for k, v in values.items()}})] if values else []
    if coaching.changed and mapping.writeback.note:
        writes.append(Write("note", "POST", "/crm/v3/objects/notes", {
            "properties": {"hs_timestamp": _hubspot_timestamp(coaching.reviewed), "hs_note_body": _html(coaching.note)},
            "associations": to_deal(HUBSPOT_NOTE_TO_DEAL)}))
    if coaching.changed and coaching.tasks:
        inputs = []
        for task in coaching.tasks:
            properties = {"hs_timestamp": _hubspot_timestamp(task.due), "hs_task_subject": task.subject, "hs_task_body": task.description,
                          "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH" if task.urgent else "MEDIUM", "hs_task_type": "TODO"}
            if coaching.owner:
                properties["hubspot_owner_id"] = coaching.owner + ""
            inputs.append({"properties": properties, "associations": to_deal(HUBSPOT_TASK_TO_DEAL)})
        writes.append(Write("tasks", "POST", "/crm/v3/objects/tasks/batch/create", {"inputs": inputs}))
    last = _fingerprint(coaching, mapping)
    return writes + ([Write("fingerprint", "PATCH", deal, {"properties": last})] if last else [])


def odoo_call(model: str, method: str, args: list, kwargs: dict | None = None) -> dict:
    """An `execute_kw` call without its credentials (crm.client adds the database, user id and API key)."""
    return {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}


def odoo_request(call: dict, database: Any, user_id: Any, key: Any, request_id: int = 1) -> dict:
    """The JSON-RPC request for `/jsonrpc` that makes an `odoo_call` with these credentials."""
    return {"jsonrpc": "2.0", "method": "call", "id": request_id, "params": {"service": "object", "method": "execute_kw", "args": [
        database, user_id, key, call["model"], call["method"], call["args"], call["kwargs"]]}}


def _odoo(coaching: Coaching, mapping: Mapping) -> list[Write]:
    lead = int(coaching.record_id.rpartition("/")[2])
    values = _values(coaching, mapping)
    writes = [Write("fields", "POST", "/jsonrpc", odoo_call("crm.lead", "write", [[lead], values]))] if values else []
    if coaching.changed and mapping.writeback.note:  # body_is_html: Odoo 17+ escapes a plain-text body
        writes.append(Write("note", "POST", "/jsonrpc", odoo_call("crm.lead", "message_post", [[lead]], {
            "body": _html(coaching.note), "body_is_html": True, "message_type": "comment", "subtype_xmlid": "mail.mt_note"})))
    for number, task in enumerate(coaching.tasks if coaching.changed else [], 1):
        kwargs = {"act_type_xmlid": "mail.mail_activity_data_todo", "date_deadline": task.due.isoformat(),
                  "summary": task.subject, "note": _html(task.description)}
        if coaching.owner:
            kwargs["user_id"] = int(coaching.owner)
        writes.append(Write(f"task{number}", "POST", "/jsonrpc", odoo_call("crm.lead", "activity_schedule", [[lead]], kwargs)))
    last = _fingerprint(coaching, mapping)
    return writes + ([Write("fingerprint", "POST", "/jsonrpc", odoo_call("crm.lead", "write", [[lead], last]))] if last else [])


PLANS = {"salesforce": _salesforce, "hubspot": _hubspot, "odoo": _odoo}


def plan(kind: str, coaching: Coaching, mapping: Mapping) -> list[Write]:
    """The requests that write `coaching` back into `kind`'s deal record."""
    return PLANS[kind](coaching, mapping)
