"""HubSpot: a deal from the CRM API v3 with its contacts and association labels.

The input bundles three API answers:

    {"deal": <GET /crm/v3/objects/deals/{id}?properties=dealname,amount,dealstage,pipeline,
              closedate,deal_currency_code,hubspot_owner_id,hs_v2_date_entered_<stage>...
              &associations=contacts,companies>,
     "contacts": <POST /crm/v3/objects/contacts/batch/read (firstname, lastname, jobtitle,
                  notes_last_contacted)>["results"],
     "companies": <POST /crm/v3/objects/companies/batch/read (name)>["results"],
     "associations": <GET /crm/v4/objects/deals/{id}/associations/contacts>["results"]}

A page of deals bundles the batch answers as returned, each a response or a list of page responses:

    {"deals": <POST /crm/v3/objects/deals/batch/read, /search, or GET /crm/v3/objects/deals>,
     "contacts": <POST /crm/v3/objects/contacts/batch/read>,
     "companies": <POST /crm/v3/objects/companies/batch/read>,
     "contact_associations": <POST /crm/v4/associations/deals/contacts/batch/read>,
     "company_associations": <POST /crm/v4/associations/deals/companies/batch/read>,
     "owners": <GET /crm/v3/owners>}

Only "deals" is required; each deal gets the contacts and companies associated with it. A contact
associated with a deal but missing from "contacts" is reported, never left out silently. `paging.next`
on a page, and a batch answer's `errors` (records HubSpot could not read), are noted.

The customer is the deal's associated company (or the one company sent), never
the deal's name. Association labels (USER_DEFINED association types, e.g.
"Decision maker") are the contacts' buying roles. The owner is named from "owners"
when sent (else the owner id). HubSpot property values are strings.
"""

from __future__ import annotations

from typing import Any

from ..engine.errors import InputProblem
from .answers import CrmAnswerError, Entry, Envelope, Page, bundle
from .common import Collector, Mapping, RecordView, apply_fields, contact_extras, json_kind, merge_role, required_amount

PARTS = ("deals", "contacts", "companies", "contact_associations", "company_associations", "owners")


def _error(response: dict) -> tuple[str, str] | None:
    if response.get("status") != "error":
        return None
    return (str(response.get("category") or "error"), str(response.get("message") or ""))


def _more(response: dict) -> str | None:
    notes = []
    after = ((response.get("paging") or {}).get("next") or {}).get("after") if isinstance(response.get("paging"), dict) else None
    if after:
        notes.append(f"more records follow: query again with after={after} and send the pages as a list")
    for error in response.get("errors") or []:
        if isinstance(error, dict):
            ids = ", ".join(map(str, ((error.get("context") or {}).get("ids") or [])[:10]))
            notes.append(f"HubSpot could not read some records ({error.get('category')}{': ' + ids if ids else ''}): {error.get('message')}")
    return "; ".join(notes) or None


ENVELOPE = Envelope(
    crm="hubspot",
    label="HubSpot",
    records=lambda response: response.get("results"),
    error=_error,
    error_field="status",
    looks_like=lambda data: "results" in data or data.get("status") == "error",
    more=_more,
)


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


def to_document(data: dict, mapping: Mapping, as_of: str, found: Collector, owners: dict[str, str] | None = None) -> dict:
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
        "owner": _owner(properties.text("hubspot_owner_id"), owners if owners is not None else _owner_names(data.get("owners"))),
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


def _owner(owner_id: str | None, owners: dict[str, str]) -> str | None:
    return owners.get(owner_id, owner_id) if owner_id else None


def _owner_names(owners: Any) -> dict[str, str]:
    """Owner id → name from the owners answer (GET /crm/v3/owners: its response, or its results)."""
    listed = owners.get("results") if isinstance(owners, dict) else owners
    names = {}
    for owner in listed if isinstance(listed, list) else []:
        if isinstance(owner, dict) and owner.get("id") is not None:
            name = " ".join(str(owner[k]) for k in ("firstName", "lastName") if owner.get(k)) or owner.get("email")
            if name:
                names[str(owner["id"])] = str(name)
    return names


def _as_responses(value: Any) -> Any:
    """A part sent as the records themselves (a batch read's `results`) is read as one response holding them."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and "results" not in v and v.get("status") != "error" for v in value):
        return {"results": value}
    return value


def _links(rows: list[dict]) -> dict[str, list[dict]]:
    """Deal id → the `to` rows of a v4 batch association answer (`{"from": {"id"}, "to": [{"toObjectId", "associationTypes"}]}`)."""
    links: dict[str, list[dict]] = {}
    for row in rows:
        origin = row.get("from") if isinstance(row.get("from"), dict) else {}
        if origin.get("id") is not None and isinstance(row.get("to"), list):
            links.setdefault(str(origin["id"]), []).extend(to for to in row["to"] if isinstance(to, dict))
    return links


def _associated(deal: dict, kind: str) -> list[dict]:
    """The deal's own `associations` (GET with ?associations=contacts,companies) as v4 `to` rows without labels."""
    listed = ((deal.get("associations") or {}).get(kind) or {}).get("results") if isinstance(deal.get("associations"), dict) else None
    return [{"toObjectId": link.get("id"), "associationTypes": []} for link in listed or [] if isinstance(link, dict)]


def _deal_bundle(deal: dict, parts: dict[str, list[dict]], links: dict[str, dict[str, list[dict]]]) -> tuple[dict, list[str]]:
    """One deal's bundle (as for a single deal) from the page's parts, and the contacts it names that were not sent."""
    deal_id = str(deal.get("id"))
    contacts = {str(c.get("id")): c for c in parts.get("contacts", [])}
    companies = {str(c.get("id")): c for c in parts.get("companies", [])}
    contact_rows = links["contacts"].get(deal_id) if "contact_associations" in parts else _associated(deal, "contacts")
    company_rows = links["companies"].get(deal_id) if "company_associations" in parts else _associated(deal, "companies")
    contact_ids = list(dict.fromkeys(str(row.get("toObjectId")) for row in contact_rows or []))
    company_ids = list(dict.fromkeys(str(row.get("toObjectId")) for row in company_rows or []))
    bundle_ = {
        "deal": {**deal, "associations": {"companies": {"results": [{"id": i} for i in company_ids]}}},
        "contacts": [contacts[i] for i in contact_ids if i in contacts],
        "companies": [companies[i] for i in company_ids if i in companies],
        "associations": contact_rows or [],
    }
    return bundle_, [i for i in contact_ids if i not in contacts]


def read(data: Any, source: str) -> Page:
    """The deals of a HubSpot page bundle (or of a lone deals answer), each with its associated records; or
    the one deal of a single-deal bundle {"deal", "contacts", "companies", "associations"}."""
    if isinstance(data, dict) and "deal" in data:
        deal = data.get("deal") if isinstance(data.get("deal"), dict) else {}
        properties = deal.get("properties") if isinstance(deal.get("properties"), dict) else {}
        return Page([Entry(deal.get("id") if isinstance(deal.get("id"), str) else None, properties.get("dealname"), deal,
                           lambda mapping, as_of, found: to_document(data, mapping, as_of, found))], single=True)
    if isinstance(data, dict) and "properties" in data and "id" in data:  # a bare deal object
        return read({"deal": data}, source)
    if isinstance(data, dict) and not ENVELOPE.looks_like(data):
        data = {part: _as_responses(value) for part, value in data.items()}
    elif not isinstance(data, (dict, list)):
        raise CrmAnswerError(source, [InputProblem("", f"expected a HubSpot deals answer, or a bundle with the parts {', '.join(PARTS)}, "
                                                       f"got {json_kind(data)}")])
    notes: list[str] = []
    parts = bundle(_as_responses(data), ENVELOPE, source, notes, parts=PARTS)
    links = {"contacts": _links(parts.get("contact_associations", [])), "companies": _links(parts.get("company_associations", []))}
    owners = _owner_names(parts.get("owners", []))
    entries = []
    for deal in parts["deals"]:
        deal_bundle, unsent = _deal_bundle(deal, parts, links)
        properties = deal.get("properties") if isinstance(deal.get("properties"), dict) else {}

        def convert(mapping: Mapping, as_of: str, found: Collector, deal_bundle=deal_bundle, unsent=unsent) -> dict:
            for contact_id in unsent:
                found.missing("contacts", f"contact {contact_id} is associated with the deal but not among the contacts sent: "
                                          "add it to the contacts batch read")
            return to_document(deal_bundle, mapping, as_of, found, owners)

        ident = deal.get("id")
        entries.append(Entry(str(ident) if isinstance(ident, (str, int)) and not isinstance(ident, bool) else None,
                             properties.get("dealname") if isinstance(properties.get("dealname"), str) else None, deal, convert))
    return Page(entries, notes)
