"""Odoo: a crm.lead record as returned by JSON-RPC `search_read`.

    search_read("crm.lead", [("id", "=", 42)], ["name", "partner_id", "partner_name", "contact_name",
        "function", "expected_revenue", "company_currency", "stage_id", "date_deadline",
        "date_last_stage_update", "user_id"])

Many2one fields arrive as [id, "display name"], empty fields as false. A lead
names one contact person (contact_name, function).
"""

from __future__ import annotations

from .common import Collector, Mapping, RecordView, apply_fields, contact_extras, json_kind, required_amount


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
