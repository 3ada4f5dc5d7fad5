"""纷享销客 (FxiaoKe / ShareCRM): 商机 2.0 records from `POST /cgi/crm/v2/data/query`, as returned.

    {"corpAccessToken": ..., "corpId": ..., "currentOpenUserId": ...,
     "data": {"dataObjectApiName": "NewOpportunityObj",
              "search_query_info": {"limit": 100, "offset": 0, "filters": [...], "orders": [...]}}}

answers `{traceId, errorCode, errorMessage, errorDescription, data: {total, offset, limit, dataList}}`;
`errorCode` 0 is success, anything else an error (HTTP 200 either way). A bundle adds the same query's
answers for 商机联系人 `NewOpportunityContactsObj` ("contacts", linked by `new_opportunity_id`), 竞争对手明细
`CompetitiveLinesObj` ("competitors") and 联系人 `ContactObj` ("people", for job titles).

Record values: `amount` a string ("1200000.00"), `close_date` and `stg_changed_time` epoch milliseconds,
`sales_stage` an option value of the company's sales process, `account_id__r` the customer's name,
`owner` a list of user ids with `owner__r.name`. Buying roles and 内线/赞助者/教练 are not standard
fields: the mapping names the company's own (`role_fields`, `contact_fields`).
"""

from __future__ import annotations

from .answers import Envelope, paged
from .common import PageFields, RecordView


def _error(response: dict) -> tuple[str, str] | None:
    code = response.get("errorCode")
    if code in (0, "0"):
        return None
    message = " / ".join(str(response[k]) for k in ("errorMessage", "errorDescription") if response.get(k))
    return (str(code), message)


def _more(response: dict) -> str | None:
    data = response.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("dataList"), list):
        return None
    total, offset, count = data.get("total"), data.get("offset") or 0, len(data["dataList"])
    if isinstance(total, int) and isinstance(offset, int) and total > offset + count:
        return (f"{total} records match the query and this page holds {count} from offset {offset}: query again with "
                f"offset {offset + count} and send the pages as a list")
    return None


ENVELOPE = Envelope(
    crm="fxiaoke",
    label="纷享销客",
    records=lambda response: (response.get("data") or {}).get("dataList") if isinstance(response.get("data") or {}, dict) else None,
    error=_error,
    error_field="errorCode",
    looks_like=lambda data: "errorCode" in data and ("traceId" in data or "data" in data or "errorMessage" in data),
    more=_more,
)


def _owner(record: RecordView) -> str | None:
    named = record.obj("owner__r").text("name")
    if named:
        return named
    owners = record.get("owner")
    return str(owners[0]) if isinstance(owners, list) and owners and isinstance(owners[0], (str, int)) else None


FIELDS = PageFields(
    id="_id", name="name", stage="sales_stage", stage_what="sales stage (option value)",
    entered="stg_changed_time", entered_hint="add stg_changed_time to the query's fieldProjection",
    amount="amount", close="close_date", customer="account_id__r", owner=_owner, link="new_opportunity_id",
    related={  # where the related records keep what a contact and a competitor need
        "contact_id": ("contact_id", "_id"), "contact_name": ("contact_id__r", "name"), "person_id": ("_id",),
        "title": ("job_title",), "competitor": ("competitor_id__r", "name"),
    },
)

read = paged(ENVELOPE, FIELDS)
