"""Odoo: a crm.lead record as returned by JSON-RPC `search_read`.

    search_read("crm.lead", [("id", "=", 42)], ["name", "partner_id", "partner_name", "contact_name",
        "function", "expected_revenue", "company_currency", "stage_id", "date_deadline",
        "date_last_stage_update", "user_id"])

The input is the answer as returned: `search_read`'s list of records, the JSON-RPC envelope around it
(`{"jsonrpc": "2.0", "id": 1, "result": [...]}`; `web_search_read`'s `{"length", "records"}` as result
too), a list of such envelopes (pages), or one record. A JSON-RPC `error` is reported as Odoo's error
(its name and message; never the server's traceback in `data.debug`).

Many2one fields arrive as [id, "display name"], empty fields as false. A lead
names one contact person (contact_name, function).
"""

from __future__ import annotations

from typing import Any

from ..engine.errors import InputProblem
from .answers import CrmAnswerError, Entry, Envelope, Page, responses
from .common import Collector, Mapping, RecordView, apply_fields, contact_extras, json_kind, required_amount


def _records(response: dict) -> Any:
    result = response.get("result")
    return result.get("records") if isinstance(result, dict) else result


def _error(response: dict) -> tuple[str, str] | None:
    error = response.get("error")
    if error is None:
        return None
    if not isinstance(error, dict):
        return ("error", str(error))
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    return (str(data.get("name") or error.get("code") or "error"), str(data.get("message") or error.get("message") or ""))


def _more(response: dict) -> str | None:
    result = response.get("result")
    if isinstance(result, dict) and isinstance(result.get("length"), int) and isinstance(result.get("records"), list):
        if result["length"] > len(result["records"]):
            return (f"{result['length']} records match the domain and this answer holds {len(result['records'])}: "
                    "read the next pages (offset) and send them as a list")
    return None


ENVELOPE = Envelope(
    crm="odoo",
    label="Odoo JSON-RPC",
    records=_records,
    error=_error,
    error_field="error",
    looks_like=lambda data: "jsonrpc" in data or ("result" in data and "id" in data) or ("error" in data and "id" in data),
    more=_more,
)


def _entry(record: dict) -> Entry:
    ident, name = record.get("id"), record.get("name")
    usable = isinstance(ident, (str, int)) and not isinstance(ident, bool)
    return Entry(f"crm.lead/{ident}" if usable else None, name if isinstance(name, str) else None, record,
                 lambda mapping, as_of, found: to_document(record, mapping, as_of, found))


def read(data: Any, source: str) -> Page:
    """The leads of a search_read answer (a list, a JSON-RPC envelope, or a list of envelopes), or the one lead sent."""
    if isinstance(data, dict) and not ENVELOPE.looks_like(data):
        if isinstance(data.get("records"), list) and "length" in data:  # web_search_read's result, sent without its envelope
            data = {"jsonrpc": "2.0", "result": data}
        else:
            return Page([_entry(data)], single=True)
    if isinstance(data, list) and not any(isinstance(item, dict) and ENVELOPE.looks_like(item) for item in data):
        data = {"jsonrpc": "2.0", "result": data}  # search_read's list as the client library returns it
    if not isinstance(data, (dict, list)):
        raise CrmAnswerError(source, [InputProblem("", f"expected an Odoo search_read answer or a crm.lead record, got {json_kind(data)}")])
    problems: list[InputProblem] = []
    notes: list[str] = []
    records = responses(data, "", ENVELOPE, problems, notes)
    if problems:
        raise CrmAnswerError(source, problems)
    return Page([_entry(record) for record in records], notes)


def _display(record: RecordView, key: str) -> str | None:
    """The display name of a many2one field ([id, "name"], or false when empty)."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        return value[1]
    record.found.missing(record.at(key), f'expected [id, "name"] or false, got {json_kind(value)}')
    return None


def to_document(data: dict, mapping: Mapping, as_of: str, found: Collector) -> dict:
    record = RecordView(data, "", found, false_is_empty=True)
    stage = found.lookup(mapping.stages, _display(record, "stage_id"), "stage_id", "stage")
    entered = record.date("date_last_stage_update")
    if entered is None:
        found.missing("date_last_stage_update", "no stage-change date: read the field date_last_stage_update")
    lead_id = record.identifier("id")
    name = record.text("name")
    contacts = []
    contact_name = record.text("contact_name")
    if contact_name:
        contact = {"id": f"lead-{lead_id}-contact", "name": contact_name}
        function = record.text("function")
        if function:
            contact["title"] = function
        contact.update(contact_extras(record, mapping.contact_fields, mapping.list_separator))
        contacts.append(contact)
    document = {
        "id": f"crm.lead/{lead_id}" if lead_id is not None else None,
        "name": name,
        "owner": _display(record, "user_id"),
        "customer": {"name": _display(record, "partner_id") or record.text("partner_name") or name},
        "amount": required_amount(record.number("expected_revenue"), "expected_revenue", mapping, found),
        "currency": _display(record, "company_currency") or mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": record.date("date_deadline"),
        "as_of": as_of,
        "contacts": contacts,
    }
    apply_fields(document, record, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
