"""Salesforce: an Opportunity as returned by a SOQL query through the REST API.

Expected shape (child relationships as sub-queries):

    SELECT Id, Name, Amount, CurrencyIsoCode, StageName, CloseDate, LastStageChangeDate,
           Account.Name, Account.Industry, Owner.Name,
           (SELECT ContactId, Role, IsPrimary, Contact.Name, Contact.Title FROM OpportunityContactRoles),
           (SELECT CompetitorName FROM OpportunityCompetitors),
           (SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate)
    FROM Opportunity WHERE Id = '...'

One element of the query's `records` is the input. CurrencyIsoCode exists in
multi-currency orgs only; otherwise the mapping's `currency` is used.
"""

from __future__ import annotations

from .common import Collector, Mapping, apply_fields, as_date, contact_extras, get_path, merge_role


def _children(record: dict, relationship: str) -> list[dict]:
    value = record.get(relationship)
    return list(value.get("records", [])) if isinstance(value, dict) else []


def _stage_entered(record: dict) -> str | None:
    """LastStageChangeDate, or the start of the latest run of the current stage in OpportunityHistories."""
    if record.get("LastStageChangeDate"):
        return as_date(record["LastStageChangeDate"])
    entered = None
    for history in _children(record, "OpportunityHistories"):
        if history.get("StageName") == record.get("StageName"):
            entered = entered or history.get("CreatedDate")
        else:
            entered = None
    return as_date(entered or record.get("CreatedDate"))


def to_document(record: dict, mapping: Mapping, as_of: str, found: Collector) -> dict:
    stage = found.lookup(mapping.stages, record.get("StageName"), "StageName", "stage")
    entered = _stage_entered(record)
    if entered is None:
        found.missing("LastStageChangeDate", "no stage-change date: query LastStageChangeDate or OpportunityHistories")
    contacts: dict[str, dict] = {}
    for index, role in enumerate(_children(record, "OpportunityContactRoles")):
        contact_id = role.get("ContactId") or f"role-{index}"
        contact = contacts.setdefault(
            contact_id,
            {
                "id": contact_id,
                "name": get_path(role, "Contact.Name") or contact_id,
                **({"title": get_path(role, "Contact.Title")} if get_path(role, "Contact.Title") else {}),
                **contact_extras(role, mapping.contact_fields, mapping.list_separator),
            },
        )
        if role.get("Role"):
            target = found.lookup(mapping.roles, role["Role"], f"OpportunityContactRoles[{index}].Role", "contact role")
            if target is not None:
                merge_role(contact, target)
    document = {
        "id": record.get("Id"),
        "name": record.get("Name"),
        "owner": get_path(record, "Owner.Name"),
        "customer": {"name": get_path(record, "Account.Name") or record.get("Name")},
        "amount": record.get("Amount") if record.get("Amount") is not None else 0,
        "currency": record.get("CurrencyIsoCode") or mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": as_date(record.get("CloseDate")),
        "as_of": as_of,
        "contacts": list(contacts.values()),
        "competitors": [{"name": c["CompetitorName"]} for c in _children(record, "OpportunityCompetitors") if c.get("CompetitorName")],
    }
    if get_path(record, "Account.Industry"):
        document["customer"]["industry"] = get_path(record, "Account.Industry")
    apply_fields(document, record, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
