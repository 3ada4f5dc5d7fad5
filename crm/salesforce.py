"""Salesforce: an Opportunity as returned by a SOQL query through the REST API.

Expected shape (child relationships as sub-queries):

    SELECT Id, Name, Amount, CurrencyIsoCode, StageName, CloseDate, LastStageChangeDate,
           Account.Name, Account.Industry, Owner.Name,
           (SELECT ContactId, Role, IsPrimary, Contact.Name, Contact.Title FROM OpportunityContactRoles),
           (SELECT CompetitorName FROM OpportunityCompetitors),
           (SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate)
    FROM Opportunity WHERE Id = '...'

The input is the query's response as returned (`{"totalSize", "done", "records": [...]}`, one deal per
record; a list of such responses is several pages, `nextRecordsUrl` on a page that is not `done` is
noted), or one element of its `records`. The REST API's error answer (`[{"errorCode", "message"}]`) is
reported as Salesforce's error. CurrencyIsoCode exists in multi-currency orgs only; otherwise the
mapping's `currency` is used.
"""

from __future__ import annotations

from typing import Any

from ..engine.errors import InputProblem
from .answers import CrmAnswerError, Entry, Envelope, Page, responses
from .common import Collector, Mapping, RecordView, apply_fields, contact_extras, json_kind, merge_role, required_amount


CHILDREN = ("OpportunityContactRoles", "OpportunityCompetitors", "OpportunityHistories")


def _more(response: dict) -> str | None:
    if response.get("done") is False or response.get("nextRecordsUrl"):
        shown = len(response["records"]) if isinstance(response.get("records"), list) else 0
        return (f"{response.get('totalSize', 'more')} records match the query and this page holds {shown}: fetch "
                f"{response.get('nextRecordsUrl') or 'the nextRecordsUrl'} and send the pages as a list")
    return None


ENVELOPE = Envelope(
    crm="salesforce",
    label="Salesforce SOQL",
    records=lambda response: response.get("records"),
    error=lambda response: None,  # Salesforce answers an error with a list of errors, read before the pages
    error_field="errorCode",
    looks_like=lambda data: "records" in data and ("totalSize" in data or "done" in data),
    more=_more,
)


def _errors(data: Any) -> list[InputProblem] | None:
    """The REST API's error answer, `[{"errorCode", "message", "fields"}]`, as problems; None when `data` is not one."""
    if not (isinstance(data, list) and data and all(isinstance(e, dict) and "errorCode" in e and "message" in e for e in data)):
        return None
    return [
        InputProblem(f"[{index}].errorCode", f"Salesforce answered with error {error['errorCode']}: {error['message']}; "
                                             "this is the CRM's error, not a page of records: nothing here was reviewed")
        for index, error in enumerate(data)
    ]


def _entry(record: dict, notes: list[str]) -> Entry:
    ident, name = record.get("Id"), record.get("Name")
    ident = ident if isinstance(ident, str) else None
    for relationship in CHILDREN:  # a sub-query answers at most 200 rows at a time; the rest is not guessed
        child = record.get(relationship)
        if isinstance(child, dict) and (child.get("done") is False or child.get("nextRecordsUrl")):
            notes.append(f"{ident or name or 'a record'}: {relationship} has more rows than this answer holds: fetch "
                         f"{child.get('nextRecordsUrl') or 'its nextRecordsUrl'}; only the rows sent were read")
    return Entry(ident, name if isinstance(name, str) else None, record,
                 lambda mapping, as_of, found: to_document(record, mapping, as_of, found))


def read(data: Any, source: str) -> Page:
    """The Opportunities of a SOQL query response (or list of page responses), or the one record sent."""
    errors = _errors(data)
    if errors:
        raise CrmAnswerError(source, errors)
    notes: list[str] = []
    if isinstance(data, dict) and not ENVELOPE.looks_like(data):
        return Page([_entry(data, notes)], notes, single=True)
    if not isinstance(data, (dict, list)):
        raise CrmAnswerError(source, [InputProblem("", f"expected a Salesforce SOQL query response or an Opportunity record, got {json_kind(data)}")])
    problems: list[InputProblem] = []
    records = responses(data, "", ENVELOPE, problems, notes)
    for index, record in enumerate(records):
        kind = (record.get("attributes") or {}).get("type") if isinstance(record.get("attributes"), dict) else None
        if kind not in (None, "Opportunity"):
            problems.append(InputProblem(f"records[{index}].attributes.type", f"a {kind} record, not an Opportunity: query FROM Opportunity"))
    if problems:
        raise CrmAnswerError(source, problems)
    return Page([_entry(record, notes) for record in records], notes)


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
