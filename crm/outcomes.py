"""Won and lost deals from a CRM's closed stages: the outcomes `dealcoach outcomes import` records.

The input is what the review paths read (crm.convert): a Salesforce SOQL response, a HubSpot deals page or
bundle, an Odoo search_read answer, or one record. Each record is read through its CRM's reader; the
`closed` rules below say which records are won, which are lost, and where the close date and the reason
are. A record that is neither is still open: it is counted, not recorded.

    closed:
      won:                 # any of these conditions; a condition holds when every field named has one of its values
        - {IsWon: [true]}
        - {StageName: [Closed Won]}
      lost:                # read after `won`: a record both closed and not won is lost
        - {IsClosed: [true]}
        - {StageName: [Closed Lost]}
      closed_on: [CloseDate]           # the first of these fields that holds a date
      reason: [Loss_Reason__c]         # the first of these that holds text (a many2one's name in Odoo)

Values compare as text, ignoring case: true/false for booleans, whole numbers without ".0", each element of a list
(Odoo's [id, "name"]). The shipped rules per CRM are `SHIPPED`; a company whose stages are renamed writes
its own `closed:` section in a YAML file (with `crm:`; other sections are ignored) and passes it with
--mapping.

What to query: Salesforce `SELECT Id, Name, StageName, IsClosed, IsWon, CloseDate FROM Opportunity WHERE
IsClosed = true` (add your loss-reason field); HubSpot deals with the properties dealstage, closedate,
hs_is_closed, hs_is_closed_won, closed_lost_reason, closed_won_reason; Odoo crm.lead search_read with the
fields stage_id, probability, active, won_status, date_closed, lost_reason_id and the context
{"active_test": false} (a lost lead is archived, and search_read leaves archived records out otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine.errors import DealInputError, InputProblem
from ..engine.loading import read_document
from ..store.records import Outcome
from .common import MappingFileError, as_date, get_path
from .convert import KINDS

Scalar = str | bool | int | float
KINDS_WITH_OUTCOMES = ("salesforce", "hubspot", "odoo")


class Closed(BaseModel):
    """A CRM's closed stages: which records are won, which lost, where their close date and reason are."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    won: list[dict[str, list[Scalar]]] = Field(min_length=1, description="conditions, any of which makes a record won")
    lost: list[dict[str, list[Scalar]]] = Field(min_length=1, description="conditions, any of which makes a record (not won) lost")
    closed_on: list[str] = Field(min_length=1, description="record fields holding the close date; the first with a date is used")
    reason: list[str] = Field(default_factory=list, description="record fields holding the reason; the first with text is used")


SHIPPED: dict[str, Closed] = {
    "salesforce": Closed(
        won=[{"IsWon": [True]}, {"StageName": ["Closed Won"]}],
        lost=[{"IsClosed": [True]}, {"StageName": ["Closed Lost"]}],
        closed_on=["CloseDate"],
        reason=["Loss_Reason__c"],  # no standard field: the custom field most orgs add; absent, no reason is recorded
    ),
    "hubspot": Closed(
        won=[{"properties.hs_is_closed_won": [True]}, {"properties.dealstage": ["closedwon"]}],
        lost=[{"properties.hs_is_closed": [True]}, {"properties.hs_is_closed_lost": [True]}, {"properties.dealstage": ["closedlost"]}],
        closed_on=["properties.closedate", "properties.hs_v2_date_entered_closedwon", "properties.hs_v2_date_entered_closedlost"],
        reason=["properties.closed_lost_reason", "properties.closed_won_reason"],
    ),
    "odoo": Closed(
        won=[{"won_status": ["won"]}, {"stage_id": ["Won"], "probability": [100]}],
        lost=[{"won_status": ["lost"]}, {"active": [False], "probability": [0]}],
        closed_on=["date_closed", "date_last_stage_update"],
        reason=["lost_reason_id"],
    ),
}


def load_closed(crm: str, path: Path | str | None = None) -> Closed:
    """The `closed:` section of a YAML file (which names its `crm:`), or the shipped rules of `crm`."""
    if crm not in SHIPPED:
        raise MappingFileError(str(path or crm), [InputProblem("", f"outcomes are read from {', '.join(KINDS_WITH_OUTCOMES)}, not {crm!r}")])
    if path is None:
        return SHIPPED[crm]
    source = str(path)
    try:
        data = read_document(path)
    except DealInputError as error:
        raise MappingFileError(source, [InputProblem(p.path, f"cannot read the mapping file: {p.message}") for p in error.problems]) from None
    if not isinstance(data, dict):
        raise MappingFileError(source, [InputProblem("", "a mapping file is a YAML mapping with `crm:` and `closed:`")])
    if data.get("crm") not in (None, crm):
        raise MappingFileError(source, [InputProblem("crm", f"this mapping is for {data.get('crm')!r}, not {crm!r}")])
    if "closed" not in data:
        raise MappingFileError(source, [InputProblem("closed", "no `closed:` section: say which records are won and lost "
                                                               "(see `dealcoach outcomes import --help`)")])
    try:
        return Closed.model_validate(data["closed"])
    except ValidationError as error:
        raise MappingFileError(source, [InputProblem("closed." + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]) from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _holds(record: dict, condition: dict[str, list[Scalar]]) -> bool:
    for path, allowed in condition.items():
        value = get_path(record, path)
        if value is None:
            return False
        wanted = {_text(v).lower() for v in allowed}
        values = value if isinstance(value, list) else [value]
        if not any(_text(v).lower() in wanted for v in values if v is not None):
            return False
    return True


def result_of(record: dict, closed: Closed) -> str | None:
    """"won", "lost", or None for a record that is still open."""
    if any(_holds(record, condition) for condition in closed.won):
        return "won"
    if any(_holds(record, condition) for condition in closed.lost):
        return "lost"
    return None


def _first_text(record: dict, paths: list[str]) -> str | None:
    for path in paths:
        value = get_path(record, path, false_is_empty=True)
        if isinstance(value, list):  # Odoo's many2one: [id, "name"]
            value = next((v for v in reversed(value) if isinstance(v, str)), None)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


@dataclass
class ClosedRecords:
    """What a CRM input says about how deals ended: the outcomes to record, the records still open, the
    closed records that cannot be recorded (each problem names the record and field), and the reader's notes."""

    outcomes: list[Outcome] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def closed_outcomes(crm: str, data: Any, *, closed: Closed | None = None, source: str = "input") -> ClosedRecords:
    """The won and lost deals of a CRM input, read by the CRM's own reader (a CrmAnswerError, exit 3, when the
    input is the CRM's error answer or not one of its responses). Each outcome's deal id is the one its reviews
    were logged with (the record's id; crm.lead/<id> in Odoo); its source is the CRM (salesforce, hubspot, odoo)."""
    if crm not in KINDS:
        raise MappingFileError(source, [InputProblem("", f"unknown CRM {crm!r}; allowed: {', '.join(KINDS_WITH_OUTCOMES)}")])
    closed = closed or load_closed(crm)
    page = KINDS[crm](data, source)
    found = ClosedRecords(notes=list(page.notes))
    for index, entry in enumerate(page.entries):
        shown = entry.record_id or entry.name or f"record {index}"
        result = result_of(entry.record, closed)
        if result is None:
            found.open.append(shown)
            continue
        if not entry.record_id:
            found.problems.append(InputProblem(f"{shown}", f"a {result} record without an id: query the record's id"))
            continue
        date = next((d for path in closed.closed_on if (d := as_date(get_path(entry.record, path, false_is_empty=True)))), None)
        try:
            closed_on = _date(date)
        except ValueError:
            found.problems.append(InputProblem(f"{shown}: {closed.closed_on[0]}", f"{date!r} is not a date"))
            continue
        if closed_on is None:
            fields = " or ".join(closed.closed_on)
            found.problems.append(InputProblem(f"{shown}", f"{result}, but no close date in {fields}: query that field"))
            continue
        reason = _first_text(entry.record, closed.reason)
        found.outcomes.append(Outcome(deal_id=entry.record_id, result=result, closed_on=closed_on, reason=reason[:2000] if reason else None,
                                      source=crm))
    return found


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
