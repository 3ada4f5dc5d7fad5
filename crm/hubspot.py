"""HubSpot: a deal from the CRM API v3 with its contacts and association labels.

The input bundles three API answers:

    {"deal": <GET /crm/v3/objects/deals/{id}?properties=dealname,amount,dealstage,pipeline,
              closedate,deal_currency_code,hubspot_owner_id,hs_v2_date_entered_<stage>...>,
     "contacts": <POST /crm/v3/objects/contacts/batch/read (firstname, lastname, jobtitle,
                  notes_last_contacted)>["results"],
     "associations": <GET /crm/v4/objects/deals/{id}/associations/contacts>["results"]}

Association labels (USER_DEFINED association types, e.g. "Decision maker")
are the contacts' buying roles. HubSpot property values are strings.
"""

from __future__ import annotations

from .common import Collector, Mapping, apply_fields, as_date, contact_extras, merge_role


def _stage_entered(properties: dict, stage_id: str) -> str | None:
    for key in (f"hs_v2_date_entered_{stage_id}", f"hs_date_entered_{stage_id}"):
        if properties.get(key):
            return as_date(properties[key])
    return None


def _number(value) -> float | str | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return value  # left for validation to reject with its path


def to_document(record: dict, mapping: Mapping, as_of: str, found: Collector) -> dict:
    deal = record.get("deal") or {}
    properties = deal.get("properties") or {}
    stage_id = properties.get("dealstage")
    stage = found.lookup(mapping.stages, stage_id, "deal.properties.dealstage", "deal stage")
    entered = _stage_entered(properties, stage_id or "")
    if entered is None:
        found.missing(
            "deal.properties", f"no date entered for stage {stage_id!r}: request the property hs_v2_date_entered_{stage_id}"
        )
    labels: dict[str, list[str]] = {}
    for index, association in enumerate(record.get("associations") or []):
        to_id = str(association.get("toObjectId"))
        for type_index, kind in enumerate(association.get("associationTypes") or []):
            if kind.get("category") == "USER_DEFINED" and kind.get("label"):
                labels.setdefault(to_id, []).append(kind["label"])
                path = f"associations[{index}].associationTypes[{type_index}].label"
                found.lookup(mapping.roles, kind["label"], path, "association label")
    contacts = []
    for contact in record.get("contacts") or []:
        props = contact.get("properties") or {}
        name = " ".join(part for part in (props.get("firstname"), props.get("lastname")) if part) or props.get("email") or contact.get("id")
        entry = {"id": str(contact.get("id")), "name": name}
        if props.get("jobtitle"):
            entry["title"] = props["jobtitle"]
        if props.get("notes_last_contacted"):
            entry["last_contact"] = as_date(props["notes_last_contacted"])
        entry.update(contact_extras(props, mapping.contact_fields, mapping.list_separator))
        for label in labels.get(entry["id"], []):
            if label in mapping.roles:
                merge_role(entry, mapping.roles[label])
        contacts.append(entry)
    document = {
        "id": str(deal.get("id")) if deal.get("id") is not None else None,
        "name": properties.get("dealname"),
        "owner": properties.get("hubspot_owner_id"),
        "customer": {"name": properties.get("dealname") or "?"},
        "amount": _number(properties.get("amount")) or 0,
        "currency": properties.get("deal_currency_code") or mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": as_date(properties.get("closedate")),
        "as_of": as_of,
        "contacts": contacts,
    }
    apply_fields(document, properties, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
