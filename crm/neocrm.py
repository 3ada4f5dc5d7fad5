"""销售易 (Neocrm): opportunity records from an XOQL query, as returned.

    POST /rest/data/v2.0/query/xoql   xoql=select id, opportunityName, money, saleStageId, closeDate,
        stageUpdatedAt, accountId.accountName, ownerId.name from opportunity order by id limit 100 offset 0

answers `{code: "200", msg, data: {totalSize, count, records}}`; the older `GET /rest/data/v2/query?q=`
answers `{code: 200, result: {totalSize, count, records}}`. An error is HTTP 200 with another `code` and
its `msg`. Relations come flattened into keys such as `accountId.accountName`; dates are epoch
milliseconds; picklists are lists of labels (`["决策人"]`); `saleStageId` is the id of a stage of the
company's sales process. A bundle adds the answers for the opportunity-contact relation ("contacts", linked
by `opportunityId`, with `contactId`, `contactId.contactName`, `contactId.post` and the role picklist),
for competitors ("competitors") and for contacts ("people", by `id`, with `contactName` and `post`).
"""

from __future__ import annotations

from typing import Any

from .answers import Envelope
from .common import Collector, Mapping, RecordView, Related, apply_fields, required_amount


def _records(response: dict) -> Any:
    for key in ("data", "result"):
        part = response.get(key)
        if isinstance(part, dict) and "records" in part:
            return part["records"]
    return None


def _error(response: dict) -> tuple[str, str] | None:
    code = response.get("code")
    if str(code) == "200":
        return None
    return (str(code), str(response.get("msg") or response.get("message") or ""))


ENVELOPE = Envelope(
    crm="neocrm",
    label="销售易",
    records=_records,
    error=_error,
    error_field="code",
    looks_like=lambda data: "code" in data and ("data" in data or "result" in data or "msg" in data),
)
LINK = "opportunityId"
NAMES = {  # where the related records keep what a contact and a competitor need
    "contact_id": ("contactId", "id"), "contact_name": ("contactId.contactName", "contactName"), "person_id": ("id",),
    "title": ("contactId.post", "post"), "competitor": ("competitorId.competitorName", "competitorName", "name"),
}


def identity(record: dict) -> tuple[str | None, str | None]:
    """The record's id and name, to name it in messages and to pick it with --record."""
    ident, name = record.get("id"), record.get("opportunityName")
    return (str(ident) if isinstance(ident, (str, int)) and not isinstance(ident, bool) else None, name if isinstance(name, str) else None)


def to_document(data: dict, mapping: Mapping, as_of: str, found: Collector, related: dict[str, list[dict]] | None = None) -> dict:
    related = related or {}
    record = RecordView(data, "", found)
    zone = mapping.timezone
    ident = record.identifier("id")
    stage = found.lookup(mapping.stages, record.identifier("saleStageId"), "saleStageId", "sale stage id")
    entered = record.epoch_date("stageUpdatedAt", zone)
    if entered is None:
        found.missing("stageUpdatedAt", "no stage-change time: select stageUpdatedAt in the XOQL query")
    related_records = Related(related, mapping, found, LINK, NAMES)
    name = record.text("opportunityName")
    document: dict[str, Any] = {
        "id": ident,
        "name": name,
        "owner": record.text("ownerId.name") or record.identifier("ownerId"),
        "customer": {"name": record.text("accountId.accountName") or name},
        "amount": required_amount(record.number("money", text_allowed=True), "money", mapping, found),
        "currency": mapping.currency,
        "stage_model": mapping.stage_model,
        "stage": stage.stage if stage else None,
        "buying_step": stage.buying_step if stage else None,
        "stage_entered": entered,
        "expected_close": record.epoch_date("closeDate", zone),
        "as_of": as_of,
        "contacts": related_records.contacts(ident),
        "competitors": related_records.competitors(ident),
    }
    apply_fields(document, record, mapping.fields, mapping.list_separator)
    return {k: v for k, v in document.items() if v is not None}
