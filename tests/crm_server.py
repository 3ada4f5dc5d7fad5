"""A local stand-in for the Salesforce, HubSpot and Odoo APIs: answers reads from the recorded responses in
examples/crm (in the APIs' own shapes), checks credentials as each API does, and records every write so a
test can check it field by field. `script` forces answers (a 429, a field the org does not have).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from helpers import http_server

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crm"
SALESFORCE_TOKEN = "00D5g000004ABCD!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL"
HUBSPOT_TOKEN = "pat-na1-0c6f2a4e-9a1b-4c3d-8e5f-1a2b3c4d5e6f"
ODOO = {"db": "acme", "uid": 2, "password": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}


def _load(name: str):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@dataclass
class Crm:
    """What the APIs hold and what they were sent."""

    writes: list[dict] = field(default_factory=list)  # {"crm", "method", "path", "body"} in the order received
    reads: list[str] = field(default_factory=list)
    script: deque = field(default_factory=deque)  # answers to give first: ("429", seconds) | ("reject_field", name)
    missing_fields: set[str] = field(default_factory=set)  # custom fields this org does not have
    lock: threading.Lock = field(default_factory=threading.Lock)
    salesforce: dict = field(default_factory=lambda: _load("salesforce-query.json"))
    hubspot: dict = field(default_factory=lambda: _load("hubspot-page.json"))
    odoo: dict = field(default_factory=lambda: _load("odoo-search-read.json"))

    def written(self, crm: str) -> list[dict]:
        return [w for w in self.writes if w["crm"] == crm]


def _salesforce(crm: Crm, method: str, path: str, query: dict, body, headers) -> tuple[int, object, dict]:
    if headers.get("authorization") != f"Bearer {SALESFORCE_TOKEN}":
        return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
    if method == "GET" and path == "/services/data/v62.0/query":
        soql = query["q"][0]
        wanted = re.search(r"WHERE Id = '([A-Za-z0-9]+)'$", soql)
        assert wanted and "FROM OpportunityContactRoles" in soql, soql
        records = [r for r in crm.salesforce["records"] if r["Id"] == wanted.group(1)]
        return 200, {"totalSize": len(records), "done": True, "records": records}, {}
    if method == "POST" and path == "/services/data/v62.0/composite":
        answers, created = [], {}
        for number, sub in enumerate(body["compositeRequest"]):
            sub_body = json.loads(json.dumps(sub["body"]).replace("@{note.id}", created.get("note", "@{note.id}")))
            crm.writes.append({"crm": "salesforce", "method": sub["method"], "path": sub["url"], "body": sub_body})
            bad = [name for name in sub_body if name in crm.missing_fields]
            if bad:
                answers.append({"body": [{"errorCode": "INVALID_FIELD", "message": f"No such column '{bad[0]}' on sobject of type Opportunity"}],
                                "httpHeaders": {}, "httpStatusCode": 400, "referenceId": sub["referenceId"]})
            elif sub["method"] == "PATCH":
                answers.append({"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": sub["referenceId"]})
            else:
                new_id = f"0695g00000N{number:04d}AAA" if sub["url"].endswith("ContentNote") else f"00T5g00000T{number:04d}AAA"
                created[sub["referenceId"]] = new_id
                answers.append({"body": {"id": new_id, "success": True, "errors": []}, "httpHeaders": {"Location": f"{sub['url']}/{new_id}"},
                                "httpStatusCode": 201, "referenceId": sub["referenceId"]})
        return 200, {"compositeResponse": answers}, {}
    if method == "PATCH" and re.fullmatch(r"/services/data/v62\.0/sobjects/Opportunity/[A-Za-z0-9]{18}", path):
        crm.writes.append({"crm": "salesforce", "method": method, "path": path, "body": body})
        bad = [name for name in body if name in crm.missing_fields]
        if bad:
            return 400, [{"errorCode": "INVALID_FIELD", "message": f"No such column '{bad[0]}' on sobject of type Opportunity"}], {}
        return 204, None, {}
    return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}


def _hubspot(crm: Crm, method: str, path: str, query: dict, body, headers) -> tuple[int, object, dict]:
    if headers.get("authorization") != f"Bearer {HUBSPOT_TOKEN}":
        return 401, {"status": "error", "message": "Authentication credentials not found.", "correlationId": "c0a8",
                     "category": "INVALID_AUTHENTICATION"}, {}
    if crm.script and crm.script[0][0] == "429":
        seconds = crm.script.popleft()[1]
        return 429, {"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
                     "category": "RATE_LIMITS", "policyName": "SECONDLY"}, {"Retry-After": str(seconds)}
    page = crm.hubspot
    deal_match = re.fullmatch(r"/crm/v3/objects/deals/(\d+)", path)
    if method == "GET" and deal_match:
        deal = next((d for d in page["deals"]["results"] if d["id"] == deal_match.group(1)), None)
        if deal is None:
            return 404, {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"}, {}
        wanted = query["properties"][0].split(",")
        links = lambda part, kind: [  # noqa: E731
            {"id": str(to["toObjectId"]), "type": kind} for row in page[part]["results"] if row["from"]["id"] == deal["id"] for to in row["to"]]
        return 200, {**deal, "properties": {k: v for k, v in deal["properties"].items() if k in wanted},
                     "associations": {"contacts": {"results": links("contact_associations", "deal_to_contact")},
                                      "companies": {"results": links("company_associations", "deal_to_company")}}}, {}
    if method == "POST" and path == "/crm/v4/associations/deals/contacts/batch/read":
        ids = {i["id"] for i in body["inputs"]}
        return 200, {"status": "COMPLETE", "results": [r for r in page["contact_associations"]["results"] if r["from"]["id"] in ids]}, {}
    batch = re.fullmatch(r"/crm/v3/objects/(contacts|companies)/batch/read", path)
    if method == "POST" and batch:
        ids = {i["id"] for i in body["inputs"]}
        return 200, {"status": "COMPLETE", "results": [r for r in page[batch.group(1)]["results"] if r["id"] in ids]}, {}
    owner = re.fullmatch(r"/crm/v3/owners/(\d+)", path)
    if method == "GET" and owner:
        found = next((o for o in page["owners"]["results"] if o["id"] == owner.group(1)), None)
        return (200, found, {}) if found else (404, {"status": "error", "message": "Owner not found", "category": "OBJECT_NOT_FOUND"}, {})
    if method in ("PATCH", "POST") and (deal_match or path in ("/crm/v3/objects/notes", "/crm/v3/objects/tasks/batch/create")):
        crm.writes.append({"crm": "hubspot", "method": method, "path": path, "body": body})
        bad = [name for name in (body.get("properties") or {}) if name in crm.missing_fields]
        if bad:
            return 400, {"status": "error", "message": f'Property values were not valid: [{{"name":"{bad[0]}","error":"PROPERTY_DOESNT_EXIST"}}]',
                         "category": "VALIDATION_ERROR"}, {}
        if path.endswith("batch/create"):
            created = [{"id": str(900 + n), "properties": i["properties"]} for n, i in enumerate(body["inputs"])]
            return 201, {"status": "COMPLETE", "results": created}, {}
        return 200 if method == "PATCH" else 201, {"id": "8801", "properties": body.get("properties", {})}, {}
    return 404, {"status": "error", "message": f"no route {method} {path}", "category": "OBJECT_NOT_FOUND"}, {}


def _odoo(crm: Crm, method: str, path: str, query: dict, body, headers) -> tuple[int, object, dict]:
    if method != "POST" or path != "/jsonrpc":
        return 404, {"error": "not found"}, {}
    request_id = body.get("id")
    db, uid, password, model, call, args, kwargs = body["params"]["args"]
    if (db, uid, password) != (ODOO["db"], ODOO["uid"], ODOO["password"]):
        return 200, {"jsonrpc": "2.0", "id": request_id, "error": {"code": 200, "message": "Odoo Server Error", "data": {
            "name": "odoo.exceptions.AccessDenied", "debug": "Traceback (most recent call last): ...", "message": "Access Denied"}}}, {}
    if call == "search_read":
        wanted = args[0][0][2]
        return 200, {"jsonrpc": "2.0", "id": request_id, "result": [r for r in crm.odoo["result"] if r["id"] == wanted]}, {}
    crm.writes.append({"crm": "odoo", "method": call, "path": model, "body": {"args": args, "kwargs": kwargs}})
    bad = [name for name in (args[1] if call == "write" else {}) if name in crm.missing_fields]
    if bad:
        return 200, {"jsonrpc": "2.0", "id": request_id, "error": {"code": 200, "message": "Odoo Server Error", "data": {
            "name": "builtins.ValueError", "message": f"Invalid field '{bad[0]}' on model 'crm.lead'"}}}, {}
    result = {"write": True, "message_post": 311, "activity_schedule": [77]}.get(call, True)
    return 200, {"jsonrpc": "2.0", "id": request_id, "result": result}, {}


ROUTES = {"salesforce": _salesforce, "hubspot": _hubspot, "odoo": _odoo}


@contextmanager
def crm_server(crm: Crm):
    """Serve the three APIs on a free loopback port: base URLs http://127.0.0.1:<port>/<crm>."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            kind, _, rest = parts.path.lstrip("/").partition("/")
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            with crm.lock:
                crm.reads.append(f"{kind} {self.command} /{rest}")
                status, answer, extra = ROUTES[kind](crm, self.command, "/" + rest, parse_qs(parts.query), body, headers) if kind in ROUTES \
                    else (404, {"error": "unknown CRM"}, {})
            data = b"" if answer is None else json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _handle

    with http_server(Handler) as base:
        yield base
