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

from .answers import Envelope, paged
from .common import PageFields


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


def _more(response: dict) -> str | None:
    records = _records(response)
    part = response.get("data") if isinstance(response.get("data"), dict) else response.get("result")
    total = part.get("totalSize") if isinstance(part, dict) else None
    if isinstance(records, list) and isinstance(total, int) and total > len(records):
        return (f"{total} records match the query and this page holds {len(records)}: query the next pages "
                "(limit/offset) and send the pages as a list")
    return None


ENVELOPE = Envelope(
    crm="neocrm",
    label="销售易",
    records=_records,
    error=_error,
    error_field="code",
    looks_like=lambda data: "code" in data and ("data" in data or "result" in data or "msg" in data),
    more=_more,
)
FIELDS = PageFields(
    id="id", name="opportunityName", stage="saleStageId", stage_what="sale stage id",
    entered="stageUpdatedAt", entered_hint="select stageUpdatedAt in the XOQL query",
    amount="money", close="closeDate", customer="accountId.accountName",
    owner=lambda record: record.text("ownerId.name") or record.identifier("ownerId"), link="opportunityId",
    related={  # where the related records keep what a contact and a competitor need
        "contact_id": ("contactId", "id"), "contact_name": ("contactId.contactName", "contactName"), "person_id": ("id",),
        "title": ("contactId.post", "post"), "competitor": ("competitorId.competitorName", "competitorName", "name"),
    },
)

read = paged(ENVELOPE, FIELDS)
