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

from .common import Collector, Mapping, RecordView, apply_fields, contact_extras, merge_role, required_amount


def _children(record: RecordView, relationship: str) -> list[RecordView]:
    """The records of a sub-query, e.g. OpportunityContactRoles.records (named OpportunityContactRoles[i])."""
    return record.obj(relationship).objects("records", element_path=relationship)


def _stage_entered(record: RecordView, stage_name: str | None) -> str | None:
    """LastStageChangeDate, or the start of the latest run of the current stage in OpportunityHistories."""
    last_change = record.date("LastStageChangeDate")
    if last_change:
        return last_change
    entered = None
    for history in _children(record, "OpportunityHistories"):
        if history.text("StageName") == stage_name:
            entered = entered or history.date("CreatedDate")
        else:
            entered = None
    return entered or record.date("CreatedDate")


def to_document(data: dict, mapping: Mapping, as_of: str, found: Collector) -> dict:
    record = RecordView(data, "", found)
    stage_name = record.text("StageName")
    stage = found.lookup(mapping.stages, stage_name, "StageName", "stage")
    entered = _stage_entered(record, stage_name)
    if entered is None:
        found.missing("LastStageChangeDate", "no stage-change date: query LastStageChangeDate or OpportunityHistories")
    contacts: dict[str, dict] = {}
    for index, role in enumerate(_children(record, "OpportunityContactRoles")):
        contact_id = role.identifier("ContactId") or f"role-{index}"
        person = role.obj("Contact")
        title = person.text("Title")
        contact = contacts.setdefault(
            contact_id,
            {
                "id": contact_id,
                "name": person.text("Name") or contact_id,
                **({"title": title} if title else {}),
                **contact_extras(role, mapping.contact_fields, mapping.list_separator),
            },
        )
        role_label = role.text("Role")
        if role_label:
            target = found.lookup(mapping.roles, role_label, f"OpportunityContactRoles[{index}].Role", "contact role")
            if target is not None:
                merge_role(contact, target)
    account = record.obj("Account")
    amount = record.number("Amount")
    document = {
        "id": record.identifier("Id"),
        "name": record.text("Name"),
        "owner": record.obj("Owner").text("Name"),
        "customer": {"name": account.text("Name") or record.text("Name")},
        "amount": required_amount(amount, "Amount", mapping, found),
        "currency": record.text("CurrencyIsoCode") or mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": record.date("CloseDate"),
        "as_of": as_of,
        "contacts": list(contacts.values()),
        "competitors": [
            {"name": name} for c in _children(record, "OpportunityCompetitors") if (name := c.text("CompetitorName"))
        ],
    }
    industry = account.text("Industry")
    if industry:
        document["customer"]["industry"] = industry
    apply_fields(document, record, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
