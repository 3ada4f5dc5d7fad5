"""Talking to a CRM's API: read a deal record as the readers take it, and send the write-back requests.

- Salesforce: REST API with an OAuth access token; a SOQL query with the sub-queries the reader needs, and
  the Composite API for the writes (each sub-request's outcome reported on its own).
- HubSpot: CRM API v3/v4 with a private-app token; the deal with its associations, the v4 association
  labels, the contacts, companies and owner; the writes one request each. A 429 is waited out (Retry-After,
  bounded) and tried again.
- Odoo: JSON-RPC `/jsonrpc` `execute_kw` with the database, user id and API key.

Every answer that is not a success is a `WriteResult` (or a `CrmAnswerError` for a read) naming the CRM's
own error code and message; nothing here raises on a CRM's refusal.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine.errors import InputProblem
from .answers import CrmAnswerError
from .common import Mapping
from .connections import Connection
from .writeback import SALESFORCE_API, Write, odoo_call, odoo_request

MAX_ANSWER_BYTES = 5_000_000
MAX_WAIT_SECONDS = 10.0  # the longest Retry-After a 429 is waited out; longer, and the write is reported as not done
SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")  # what a query may name: Account.State_Owned__c
HUBSPOT_ID = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write (a composite request's sub-request counts as one)."""

    what: str
    ok: bool
    status: int
    detail: str = ""

    def line(self, deal: str) -> str:
        return f"{'written' if self.ok else 'NOT WRITTEN'}: {deal} {self.what}" + ("" if self.ok else f" (HTTP {self.status}): {self.detail}")


Transport = Callable[[str, str, dict[str, str], bytes | None, float], tuple[int, dict[str, str], bytes]]


def http(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange: (status, lower-cased headers, body). A network failure raises OSError."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - https, or http to this machine only
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read(MAX_ANSWER_BYTES)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _error_text(answer: Any, raw: bytes) -> str:
    """The CRM's own error code and message from an error answer (Salesforce list, HubSpot object, Odoo error)."""
    if isinstance(answer, list) and answer and isinstance(answer[0], dict):
        answer = answer[0]
    if isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer.get("error"), dict) else answer
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        code = data.get("name") or error.get("errorCode") or error.get("category") or error.get("code") or ""
        message = data.get("message") or error.get("message") or ""
        if code or message:
            return f"{code}: {message}".strip(": ")
    return raw[:200].decode("utf-8", "replace") or "no answer body"


class CrmClient:
    """One CRM's API over one connection; `transport` and `sleep` are the real ones unless a test swaps them."""

    def __init__(self, connection: Connection, transport: Transport = http, sleep: Callable[[float], None] = time.sleep):
        self.connection, self.transport, self.sleep = connection, transport, sleep
        self._rpc_id = 0

    # -- the wire ---------------------------------------------------------------------------------

    def _exchange(self, method: str, path: str, body: Any = None) -> tuple[int, Any, bytes]:
        headers = {"Accept": "application/json"}
        if self.connection.token:
            headers["Authorization"] = f"Bearer {self.connection.token}"
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            status, answer_headers, raw = self.transport(method, self.connection.url + path, headers, data, self.connection.timeout_seconds)
            wait = answer_headers.get("retry-after", "")
            if status == 429 and wait.isdigit() and int(wait) <= MAX_WAIT_SECONDS:  # waited out once
                self.sleep(float(wait))
                status, _, raw = self.transport(method, self.connection.url + path, headers, data, self.connection.timeout_seconds)
        except OSError as error:
            return 0, None, f"could not reach {self.connection.crm}: {error}".encode()
        return status, _json(raw), raw

    def _rpc(self, call: dict) -> tuple[int, Any, bytes]:
        """An Odoo `execute_kw` call (writeback.odoo_call); an answer with `error` is an error even with HTTP 200."""
        c = self.connection
        self._rpc_id += 1
        status, answer, raw = self._exchange("POST", "/jsonrpc", odoo_request(call, c.db, c.uid, c.password, self._rpc_id))
        if status == 200 and isinstance(answer, dict) and "error" in answer:
            return 502, answer, raw
        return status, answer, raw

    # -- writes -----------------------------------------------------------------------------------

    def send(self, writes: list[Write]) -> list[WriteResult]:
        """Send the write-back requests in order; each outcome is reported, none raised."""
        results: list[WriteResult] = []
        for write in writes:
            if write.what == "fingerprint" and any(not r.ok for r in results if r.what not in ("fields", "composite")):
                results.append(WriteResult("fingerprint", False, 0, "not sent: the note or a task was not written, so the next sync "
                                                                    "writes them again"))
                continue
            if self.connection.crm == "odoo":
                status, answer, raw = self._rpc(write.body)
            else:
                status, answer, raw = self._exchange(write.method, write.path, write.body)
            if write.what == "composite" and status == 200 and isinstance(answer, dict) and answer.get("compositeResponse"):
                results += self._composite(answer)
            elif write.what == "composite" and status == 200:
                results.append(WriteResult("composite", False, status, "an answer without compositeResponse: nothing can be said written"))
            elif 200 <= status < 300:
                results.append(WriteResult(write.what, True, status))
            else:
                results.append(WriteResult(write.what, False, status, _error_text(answer, raw)))
        return results

    @staticmethod
    def _composite(answer: dict) -> list[WriteResult]:
        """Salesforce's Composite API answer: one result per sub-request, by its referenceId."""
        results = []
        for part in answer.get("compositeResponse") or []:
            status = int(part.get("httpStatusCode") or 0)
            what = str(part.get("referenceId") or "request")
            ok = 200 <= status < 300
            results.append(WriteResult(what, ok, status, "" if ok else _error_text(part.get("body"), b"")))
        return results

    # -- reads ------------------------------------------------------------------------------------

    def fetch(self, record_id: str, mapping: Mapping) -> Any:
        """The deal record `record_id` as the CRM's reader takes it (crm.convert.records); the CRM's refusal raises CrmAnswerError."""
        named = [*mapping.fields.values(), *mapping.contact_fields.values(), *mapping.writeback.fields.values()]
        odd = [name for name in named if not FIELD_NAME.fullmatch(name)]
        if odd:
            raise CrmAnswerError("mapping", [InputProblem("fields", f"{name!r} is not a field name a query may hold (letters, digits, _ and "
                                                                    "dots between names)") for name in odd])
        return {"salesforce": self._salesforce, "hubspot": self._hubspot, "odoo": self._odoo}[self.connection.crm](record_id, mapping)

    def _refused(self, what: str, status: int, answer: Any, raw: bytes) -> CrmAnswerError:
        crm = self.connection.crm
        return CrmAnswerError(f"{crm} API", [InputProblem(what, f"{crm} answered HTTP {status}: {_error_text(answer, raw)}")])

    def _salesforce(self, record_id: str, mapping: Mapping) -> Any:
        if not SALESFORCE_ID.fullmatch(record_id):
            raise CrmAnswerError("salesforce", [InputProblem("id", f"{record_id!r} is not a Salesforce record id (15 or 18 letters and digits)")])
        custom = [path for path in mapping.fields.values()] + list(mapping.writeback.fields.values())
        contact_custom = [path for path in mapping.contact_fields.values()]
        fields = ["Id", "Name", "Amount", "StageName", "CloseDate", "LastStageChangeDate", "CreatedDate", "OwnerId",
                  "Account.Name", "Account.Industry", "Owner.Name", *(["CurrencyIsoCode"] if self.connection.multi_currency else []), *custom]
        roles = ["ContactId", "Role", "IsPrimary", "Contact.Name", "Contact.Title", *contact_custom]
        soql = (f"SELECT {', '.join(dict.fromkeys(fields))}, "
                f"(SELECT {', '.join(dict.fromkeys(roles))} FROM OpportunityContactRoles), "
                "(SELECT CompetitorName FROM OpportunityCompetitors), "
                "(SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate) "
                f"FROM Opportunity WHERE Id = '{record_id}'")
        status, answer, raw = self._exchange("GET", f"/services/data/{SALESFORCE_API}/query?" + urllib.parse.urlencode({"q": soql}))
        if status != 200:
            raise self._refused("query", status, answer, raw)
        return answer

    def _hubspot(self, record_id: str, mapping: Mapping) -> Any:
        if not HUBSPOT_ID.fullmatch(record_id):
            raise CrmAnswerError("hubspot", [InputProblem("id", f"{record_id!r} is not a HubSpot deal id (digits)")])
        properties = ["dealname", "amount", "dealstage", "pipeline", "closedate", "deal_currency_code", "hubspot_owner_id",
                      *(f"hs_v2_date_entered_{stage}" for stage in mapping.stages),
                      *(path.removeprefix("properties.") for path in mapping.fields.values()), *mapping.writeback.fields.values()]
        query = urllib.parse.urlencode({"properties": ",".join(dict.fromkeys(properties)), "associations": "contacts,companies"})
        status, deal, raw = self._exchange("GET", f"/crm/v3/objects/deals/{record_id}?{query}")
        if status != 200 or not isinstance(deal, dict):
            raise self._refused("deal", status, deal, raw)
        bundle: dict[str, Any] = {"deals": {"results": [deal]}}
        links = lambda kind: list(dict.fromkeys(  # noqa: E731 - one row per association type: each id once
            str(link.get("id")) for link in ((deal.get("associations") or {}).get(kind) or {}).get("results", [])))
        status, labels, raw = self._exchange("POST", "/crm/v4/associations/deals/contacts/batch/read", {"inputs": [{"id": record_id}]})
        if status not in (200, 207):
            raise self._refused("contact_associations", status, labels, raw)
        bundle["contact_associations"] = labels
        contact_properties = ["firstname", "lastname", "email", "jobtitle", "notes_last_contacted",
                              *(path.removeprefix("properties.") for path in mapping.contact_fields.values())]
        for part, ids, names in (("contacts", links("contacts"), contact_properties), ("companies", links("companies"), ["name"])):
            if ids:
                status, answer, raw = self._exchange("POST", f"/crm/v3/objects/{part}/batch/read",
                                                     {"properties": list(dict.fromkeys(names)), "inputs": [{"id": i} for i in ids]})
                if status not in (200, 207):
                    raise self._refused(part, status, answer, raw)
                bundle[part] = answer
        owner = ((deal.get("properties") or {}).get("hubspot_owner_id") or "").strip()
        if HUBSPOT_ID.fullmatch(owner):
            status, answer, _ = self._exchange("GET", f"/crm/v3/owners/{owner}")
            if status == 200 and isinstance(answer, dict):  # without it the owner is shown by id
                bundle["owners"] = {"results": [answer]}
        return bundle

    def _odoo(self, record_id: str, mapping: Mapping) -> Any:
        lead = record_id.rpartition("/")[2]
        if not lead.isdigit():
            raise CrmAnswerError("odoo", [InputProblem("id", f"{record_id!r} is not an Odoo lead id (a number, or crm.lead/<number>)")])
        fields = ["name", "partner_id", "partner_name", "contact_name", "function", "expected_revenue", "company_currency", "stage_id",
                  "date_deadline", "date_last_stage_update", "user_id", *mapping.fields.values(), *mapping.contact_fields.values(),
                  *mapping.writeback.fields.values()]
        status, answer, raw = self._rpc(odoo_call("crm.lead", "search_read", [[["id", "=", int(lead)]]], {"fields": list(dict.fromkeys(fields))}))
        if status != 200:
            raise self._refused("search_read", status, answer, raw)
        return answer
