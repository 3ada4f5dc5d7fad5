"""Odoo: a crm.lead record as returned by JSON-RPC `search_read`.

    search_read("crm.lead", [("id", "=", 42)], ["name", "partner_id", "partner_name", "contact_name",
        "function", "expected_revenue", "company_currency", "stage_id", "date_deadline",
        "date_last_stage_update", "user_id"])

Many2one fields arrive as [id, "display name"], empty fields as false. A lead
names one contact person (contact_name, function).
"""

from __future__ import annotations

from .common import Collector, Mapping, apply_fields, as_date, contact_extras, get_path


def _display(value) -> str | None:
    return value[1] if isinstance(value, list) and len(value) == 2 else None


def to_document(record: dict, mapping: Mapping, as_of: str, found: Collector) -> dict:
    stage_name = _display(record.get("stage_id"))
    stage = found.lookup(mapping.stages, stage_name, "stage_id", "stage")
    entered = as_date(get_path(record, "date_last_stage_update"))
    if entered is None:
        found.missing("date_last_stage_update", "no stage-change date: read the field date_last_stage_update")
    contacts = []
    if get_path(record, "contact_name"):
        contact = {"id": f"lead-{record.get('id')}-contact", "name": record["contact_name"]}
        if get_path(record, "function"):
            contact["title"] = record["function"]
        contact.update(contact_extras(record, mapping.contact_fields, mapping.list_separator))
        contacts.append(contact)
    customer = _display(record.get("partner_id")) or get_path(record, "partner_name") or record.get("name")
    document = {
        "id": f"crm.lead/{record.get('id')}" if record.get("id") is not None else None,
        "name": record.get("name"),
        "owner": _display(record.get("user_id")),
        "customer": {"name": customer},
        "amount": get_path(record, "expected_revenue") or 0,
        "currency": _display(record.get("company_currency")) or mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": as_date(get_path(record, "date_deadline")),
        "as_of": as_of,
        "contacts": contacts,
    }
    apply_fields(document, record, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
