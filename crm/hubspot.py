"""HubSpot: a deal from the CRM API v3 with its contacts and association labels.

The input bundles three API answers:

    {"deal": <GET /crm/v3/objects/deals/{id}?properties=dealname,amount,dealstage,pipeline,
              closedate,deal_currency_code,hubspot_owner_id,hs_v2_date_entered_<stage>...
              &associations=contacts,companies>,
     "contacts": <POST /crm/v3/objects/contacts/batch/read (firstname, lastname, jobtitle,
                  notes_last_contacted)>["results"],
     "companies": <POST /crm/v3/objects/companies/batch/read (name)>["results"],
     "associations": <GET /crm/v4/objects/deals/{id}/associations/contacts>["results"]}

The customer is the deal's associated company (or the one company sent), never
the deal's name. Association labels (USER_DEFINED association types, e.g.
"Decision maker") are the contacts' buying roles. HubSpot property values are strings.
"""

from __future__ import annotations

from .common import Collector, Mapping, RecordView, apply_fields, contact_extras, merge_role, required_amount


def _stage_entered(properties: RecordView, stage_id: str) -> str | None:
    for key in (f"hs_v2_date_entered_{stage_id}", f"hs_date_entered_{stage_id}"):
        entered = properties.date(key)
        if entered:
            return entered
    return None


def _role_labels(record: RecordView, mapping: Mapping, found: Collector) -> dict[str, list[str]]:
    """Contact id -> the USER_DEFINED association labels naming the contact's buying roles."""
    labels: dict[str, list[str]] = {}
    for association in record.objects("associations"):
        to_id = association.identifier("toObjectId")
        for kind in association.objects("associationTypes"):
            label = kind.text("label")
            if kind.text("category") == "USER_DEFINED" and label:
                labels.setdefault(str(to_id), []).append(label)
                found.lookup(mapping.roles, label, kind.at("label"), "association label")
    return labels


def _customer(record: RecordView, deal: RecordView, mapping: Mapping, found: Collector) -> str | None:
    """The name of the deal's associated company (the one company sent, when the deal lists none)."""
    companies = {company.identifier("id"): company for company in record.objects("companies")}
    associated = [link.identifier("id") for link in deal.obj("associations").obj("companies").objects("results")]
    chosen = [companies[i] for i in associated if i in companies] or (list(companies.values()) if len(companies) == 1 else [])
    for company in chosen:
        name = company.obj("properties").text("name")
        if name:
            return name
    if "customer.name" not in mapping.fields:
        found.missing("companies", "no associated company with a name: read the deal with associations=companies and send "
                      "the companies (POST /crm/v3/objects/companies/batch/read, property name) as \"companies\"")
    return None


def to_document(data: dict, mapping: Mapping, as_of: str, found: Collector) -> dict:
    record = RecordView(data, "", found)
    deal = record.obj("deal")
    properties = deal.obj("properties")
    stage_id = properties.text("dealstage")
    stage = found.lookup(mapping.stages, stage_id, properties.at("dealstage"), "deal stage")
    entered = _stage_entered(properties, stage_id or "")
    if entered is None:
        found.missing(
            "deal.properties", f"no date entered for stage {stage_id!r}: request the property hs_v2_date_entered_{stage_id}"
        )
    labels = _role_labels(record, mapping, found)
    contacts = []
    for contact in record.objects("contacts"):
        props = contact.obj("properties")
        contact_id = contact.identifier("id")
        if contact_id is None:
            found.missing(contact.at("id"), "a contact without an id: send the contacts batch read's results as they come")
            continue
        names = (props.text("firstname"), props.text("lastname"))
        name = " ".join(part for part in names if part) or props.text("email") or contact_id
        entry = {"id": str(contact_id), "name": name}
        title = props.text("jobtitle")
        if title:
            entry["title"] = title
        last_contact = props.date("notes_last_contacted")
        if last_contact:
            entry["last_contact"] = last_contact
        entry.update(contact_extras(props, mapping.contact_fields, mapping.list_separator))
        for label in labels.get(entry["id"], []):
            if label in mapping.roles:
                merge_role(entry, mapping.roles[label])
        contacts.append(entry)
    deal_name = properties.text("dealname")
    amount = properties.number("amount", text_allowed=True)
    document = {
        "id": deal.identifier("id"),
        "name": deal_name,
        "owner": properties.text("hubspot_owner_id"),
        "customer": {"name": _customer(record, deal, mapping, found)},
        "amount": required_amount(amount, "deal.properties.amount", mapping, found),
        "currency": properties.text("deal_currency_code") or mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": properties.date("closedate"),
        "as_of": as_of,
        "contacts": contacts,
    }
    apply_fields(document, properties, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
