"""What every CRM adapter shares: the mapping file, field paths, dates, and the error for unmapped values."""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine.loading import read_document
from ..engine.errors import DealInputError, InputProblem

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


class MappingError(DealInputError):
    """A CRM record with values the mapping does not cover, or missing fields the deal needs."""


class MappingFileError(MappingError):
    """A mapping file that cannot be read or does not validate."""


class StageTarget(BaseModel):
    """Where a CRM stage lands in the stage model."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stage: str
    buying_step: str


class RoleTarget(BaseModel):
    """What a CRM contact-role label says about the person in dealcoach's terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    roles: list[str] = Field(default_factory=list)
    supporter: list[str] = Field(default_factory=list)
    power: str | None = None
    stance: str | None = None


WritebackField = Literal["grade", "blocking", "next_milestone", "reviewed", "fingerprint", "gate"]


class Writeback(BaseModel):
    """What `dealcoach sync` and the webhooks write back on the deal record (crm.writeback)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fields: dict[WritebackField, str] = Field(
        default_factory=dict, description="what -> the CRM's custom field; one left out is not written",
    )
    note: bool = True
    tasks: int = Field(default=3, ge=0, le=10, description="a task for each of the first moves, at most this many")
    lang: Literal["zh", "en"] = "zh"


class Mapping(BaseModel):
    """A CRM mapping file (see crm/mappings/*.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    crm: str
    stage_model: str = "standard-6"
    currency: str = "CNY"
    stages: dict[str, StageTarget]
    roles: dict[str, RoleTarget] = Field(default_factory=dict)
    fields: dict[str, str] = Field(default_factory=dict, description="dealcoach deal field <- CRM record field path")
    contact_fields: dict[str, str] = Field(default_factory=dict, description="dealcoach contact field <- CRM contact field path")
    list_separator: str = ";"
    utc_offset: str = Field(
        default="+00:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$",
        description="the CRM's time zone, for dates sent as epoch milliseconds (纷享销客, 销售易: +08:00)",
    )
    role_fields: list[str] = Field(
        default_factory=list, description="contact record fields whose values (option values or labels) are looked up in roles",
    )
    links: dict[str, str] = Field(default_factory=dict, description="related records' field naming their opportunity")
    skip: dict[str, list[str]] = Field(
        default_factory=dict, description="record field -> values of records that are not coached (won, lost, void)",
    )
    writeback: Writeback = Field(default_factory=Writeback)

    @property
    def timezone(self) -> dt.timezone:
        sign = -1 if self.utc_offset[0] == "-" else 1
        hours, minutes = int(self.utc_offset[1:3]), int(self.utc_offset[4:6])
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def load_mapping(crm: str, path: Path | str | None = None) -> Mapping:
    """The shipped default mapping for `crm`, or a company's mapping file."""
    source = Path(path) if path else MAPPINGS_DIR / f"{crm}.yaml"
    try:
        data = read_document(source)  # a deal file's limits: size, nesting, values, tags, repeated keys
        mapping = Mapping.model_validate(data)
    except DealInputError as error:
        raise MappingFileError(str(source), [InputProblem(p.path, f"cannot read the mapping file: {p.message}") for p in error.problems]) from None
    except ValidationError as error:
        problems = [InputProblem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]
        raise MappingFileError(str(source), problems) from None
    if mapping.crm != crm:
        raise MappingFileError(str(source), [InputProblem("crm", f"this mapping is for {mapping.crm!r}, not {crm!r}")])
    return mapping


def required_amount(amount: float | None, path: str, mapping: Mapping, found: Collector) -> float | None:
    """The record's amount; an absent one is reported with its record field (never read as 0), unless the
    mapping fills the deal's amount from another field."""
    if amount is None and "amount" not in mapping.fields and not any(problem.path == path for problem in found.problems):
        found.missing(path, "no amount: a deal is coached on its value; fill it in the CRM, or map another field to amount")
    return amount


def get_path(record: Any, path: str, *, false_is_empty: bool = False) -> Any:
    """`record["A"]["B"]` for the path "A.B"; None where any step is missing (or is Odoo's False for empty)."""
    if isinstance(record, dict) and path in record:  # 销售易 flattens relations into keys like "accountId.accountName"
        value = record[path]
        return None if value is False and false_is_empty else value
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is False and false_is_empty else value


def as_date(value: Any) -> str | None:
    """An ISO date from a CRM date or timestamp ("2026-10-01", "2026-10-01T08:00:00.000+0000", "2026-10-01 08:00:00")."""
    if value in (None, "", False):
        return None
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return text  # left for the deal validation to reject with its field path


class Collector:
    """Gathers every problem of one record (unmapped values, missing fields, wrong types), so all of them are
    reported at once; each problem once, however often its field is read."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[InputProblem] = []

    def missing(self, path: str, message: str) -> None:
        problem = InputProblem(path, message)
        if problem not in self.problems:
            self.problems.append(problem)

    def lookup(self, table: dict, value: Any, path: str, what: str) -> Any:
        """The mapping's entry for `value`; reported when unmapped (unless `path` is already reported, e.g. as
        a value of the wrong type)."""
        if isinstance(value, Hashable) and value in table:
            return table[value]
        if any(problem.path == path for problem in self.problems):
            return None
        if not table:
            self.missing(path, f"{what} {value!r} is not in the mapping, which maps none yet: these values are your company's own; "
                               "list them in your mapping file (README \"CRM records\")")
            return None
        known = ", ".join(repr(k) for k in table)
        self.missing(path, f"{what} {value!r} is not in the mapping; mapped: {known}")
        return None

    def raise_if_any(self) -> None:
        if self.problems:
            raise MappingError(self.source, self.problems)


def json_kind(value: Any) -> str:
    """A value's JSON type as a message names it: text, a number, true/false, a list, an object, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


# A CRM date or timestamp: 2026-10-01, or 2026-10-01T08:20:15.512Z / +0000 / +08:00.
_CRM_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


class RecordView:
    """One JSON object of a CRM record, read with the type the adapter expects at each field.

    A value of another type is reported with its record path ("expected text, got a list") and read as
    absent, so every problem of a record is listed at once and an adapter never meets a type it does not
    expect. Null is absent everywhere; Odoo also writes false for an empty field (`false_is_empty`).
    """

    def __init__(self, data: Any, path: str, found: Collector, *, false_is_empty: bool = False):
        self.data = data if isinstance(data, dict) else {}
        self.path = path
        self.found = found
        self.false_is_empty = false_is_empty

    def at(self, key: str) -> str:
        """The record path of `key` in this object."""
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        """The value as it is, None when absent or empty."""
        value = self.data.get(key)
        return None if value is False and self.false_is_empty else value

    def _wrong(self, key: str, expected: str) -> None:
        self.found.missing(self.at(key), f"expected {expected}, got {json_kind(self.data.get(key))}")

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if value is None or isinstance(value, str):
            return value
        self._wrong(key, "text")
        return None

    def identifier(self, key: str) -> str | None:
        """An id: text, or an integer as text."""
        value = self.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        self._wrong(key, "an id (text or a whole number)")
        return None

    def number(self, key: str, *, text_allowed: bool = False) -> float | None:
        """A finite number; with `text_allowed`, also a number written as text (HubSpot writes them so)."""
        value = self.get(key)
        if value is None or (text_allowed and value == ""):
            return None
        if text_allowed and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
                self.found.missing(self.at(key), f"expected a number, got the text {shown}")
                return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return value
            self.found.missing(self.at(key), f"expected a finite number, got {value}")
            return None
        self._wrong(key, "a number")
        return None

    def date(self, key: str) -> str | None:
        """An ISO date from a CRM date or timestamp text."""
        value = self.text(key)
        if not value:
            return None
        if _CRM_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                pass
        shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
        self.found.missing(self.at(key), f"expected a date (YYYY-MM-DD, or a timestamp starting so), got the text {shown}")
        return None

    def epoch_date(self, key: str, zone: dt.timezone) -> str | None:
        """An ISO date from epoch milliseconds (纷享销客 and 销售易 dates), in the CRM's time zone; also the text forms."""
        value = self.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and not value.strip().isdigit():
            return self.date(key)
        if isinstance(value, str):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 253_402_300_800_000:  # before year 10000
            return dt.datetime.fromtimestamp(value / 1000, zone).date().isoformat()
        self._wrong(key, "a date as epoch milliseconds")
        return None

    def obj(self, key: str) -> RecordView:
        """The object at `key` (an empty one when absent)."""
        value = self.get(key)
        if value is not None and not isinstance(value, dict):
            self._wrong(key, "an object")
        return RecordView(value, self.at(key), self.found, false_is_empty=self.false_is_empty)

    def objects(self, key: str, *, element_path: str | None = None) -> list[RecordView]:
        """The objects of the list at `key`; `element_path` names the elements when it is not "<path>.<key>"."""
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, "a list")
            return []
        base = element_path or self.at(key)
        views = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                views.append(RecordView(item, f"{base}[{index}]", self.found, false_is_empty=self.false_is_empty))
            else:
                self.found.missing(f"{base}[{index}]", f"expected an object, got {json_kind(item)}")
        return views


def apply_fields(document: dict, record: RecordView, fields: dict[str, str], separator: str) -> None:
    """Copy mapped CRM fields into the deal document (dotted targets create nested mappings).

    The values go as they are: the deal's validation judges them, under the deal field they were mapped to.
    """
    for target, source_path in fields.items():
        value = copy.deepcopy(get_path(record.data, source_path, false_is_empty=record.false_is_empty))
        if value is None:
            continue
        if target in ("milestones",) and isinstance(value, str):
            value = [part.strip() for part in value.split(separator) if part.strip()]
        node = document
        *parents, leaf = target.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
            if not isinstance(node, dict):
                record.found.missing(f"mapping fields.{target}", f"the deal field {parent!r} holds a value, not fields")
                break
        else:
            node[leaf] = value


def contact_extras(contact_record: RecordView, fields: dict[str, str], separator: str, zone: dt.timezone | None = None) -> dict:
    """Mapped CRM contact fields as dealcoach contact fields (with `zone`, a date may be epoch milliseconds)."""
    extras: dict = {}
    for target, source_path in fields.items():
        value = copy.deepcopy(get_path(contact_record.data, source_path, false_is_empty=contact_record.false_is_empty))
        if value is None:
            continue
        if target in ("roles", "supporter", "caveats") and isinstance(value, str):
            value = [part.strip() for part in value.split(separator) if part.strip()]
        if target == "last_contact":
            is_epoch = zone is not None and isinstance(value, int) and not isinstance(value, bool)
            value = RecordView({"v": value}, source_path, contact_record.found).epoch_date("v", zone) if is_epoch else as_date(value)
        extras[target] = value
    return extras


def merge_role(contact: dict, target: RoleTarget) -> None:
    """Add what a role label says to a contact (labels accumulate; the first power/stance given wins)."""
    for key in ("roles", "supporter"):
        for value in getattr(target, key):
            contact.setdefault(key, [])
            if not isinstance(contact[key], list):
                break  # a mapped contact field of another type, left for the deal's validation to report
            if value not in contact[key]:
                contact[key].append(value)
    for key in ("power", "stance"):
        value = getattr(target, key)
        if value is not None:
            contact.setdefault(key, value)


def role_fields(person: RecordView, contact: dict, mapping: Mapping, found: Collector) -> None:
    """Add the buying roles and supporter kinds in the company's role fields (a value, or a list of values:
    option values or labels, each looked up in the mapping's roles)."""
    for field in mapping.role_fields:
        values = person.get(field)
        for value in values if isinstance(values, list) else [] if values in (None, "") else [values]:
            target = found.lookup(mapping.roles, str(value), person.at(field), "contact role")
            if target is not None:
                merge_role(contact, target)


class Related:
    """The related records of a bundle (contacts, competitors, people) for one opportunity, read with the CRM's
    field names: `names` maps contact_id, contact_name, person_id, person_name, title, competitor to fields."""

    def __init__(self, related: dict[str, list[dict]], mapping: Mapping, found: Collector, link: str, names: dict[str, tuple[str, ...]]):
        self.related, self.mapping, self.found, self.link, self.names = related, mapping, found, link, names
        person_id = names["person_id"][0]
        self.people = {str(p.get(person_id)): p for p in related.get("people", [])}

    def _first(self, views: tuple[RecordView, ...], what: str) -> str | None:
        for view in views:
            for key in self.names[what]:
                value = view.text(key)
                if value:
                    return value
        return None

    def _of(self, part: str, ident: str | None) -> list[tuple[int, dict]]:
        link = self.mapping.links.get(part, self.link)
        return [(i, r) for i, r in enumerate(self.related.get(part, [])) if ident is not None and str(r.get(link)) == ident]

    def contacts(self, ident: str | None) -> list[dict]:
        """The opportunity's contacts: name and title from the link record or the person, mapped fields, roles."""
        contacts = []
        for index, link_record in self._of("contacts", ident):
            view = RecordView(link_record, f"contacts[{index}]", self.found)
            contact_id = next((v for k in self.names["contact_id"] if (v := view.identifier(k))), None) or f"contact-{index}"
            person = RecordView(self.people.get(contact_id, {}), f"people[{contact_id}]", self.found)
            merged = RecordView({**person.data, **link_record}, view.path, self.found)
            contact = {"id": contact_id, "name": self._first((view, person), "contact_name") or contact_id}
            title = self._first((view, person), "title")
            if title:
                contact["title"] = title
            contact.update(contact_extras(merged, self.mapping.contact_fields, self.mapping.list_separator, self.mapping.timezone))
            role_fields(merged, contact, self.mapping, self.found)
            contacts.append(contact)
        return contacts

    def competitors(self, ident: str | None) -> list[dict]:
        names: list[str] = []
        for index, line in self._of("competitors", ident):
            name = self._first((RecordView(line, f"competitors[{index}]", self.found),), "competitor")
            if name and name not in names:
                names.append(name)
        return [{"name": name} for name in names]


@dataclass(frozen=True)
class PageFields:
    """Where one paged CRM's opportunity record keeps what a deal needs (纷享销客, 销售易): the adapters differ
    only in these names, so one document builder serves both."""

    id: str
    name: str
    stage: str
    stage_what: str  # how the stage value is named in messages
    entered: str  # the last stage change, epoch milliseconds
    entered_hint: str  # what to add to the query when it is missing
    amount: str
    close: str
    customer: str
    owner: Callable[[RecordView], str | None]
    link: str  # the related records' field naming their opportunity (a mapping's `links` overrides it)
    related: dict[str, tuple[str, ...]]  # Related's names

    def identity(self, record: dict) -> tuple[str | None, str | None]:
        """The record's id and name, to name it in messages and to pick it with --record."""
        ident, name = record.get(self.id), record.get(self.name)
        usable_id = isinstance(ident, (str, int)) and not isinstance(ident, bool)
        return (str(ident) if usable_id else None, name if isinstance(name, str) else None)

    def document(self, data: dict, mapping: Mapping, as_of: str, found: Collector, related: dict[str, list[dict]] | None = None) -> dict:
        """The deal document of one opportunity record, with its related contacts and competitors."""
        record = RecordView(data, "", found)
        zone = mapping.timezone
        ident = record.identifier(self.id)
        stage = found.lookup(mapping.stages, record.identifier(self.stage), self.stage, self.stage_what)
        entered = record.epoch_date(self.entered, zone)
        if entered is None:
            found.missing(self.entered, f"no stage-change time: {self.entered_hint}")
        related_records = Related(related or {}, mapping, found, self.link, self.related)
        name = record.text(self.name)
        document = {
            "id": ident,
            "name": name,
            "owner": self.owner(record),
            "customer": {"name": record.text(self.customer) or name},
            "amount": required_amount(record.number(self.amount, text_allowed=True), self.amount, mapping, found),
            "currency": mapping.currency,
            "stage_model": mapping.stage_model,
            "stage": stage.stage if stage else None,
            "buying_step": stage.buying_step if stage else None,
            "stage_entered": entered,
            "expected_close": record.epoch_date(self.close, zone),
            "as_of": as_of,
            "contacts": related_records.contacts(ident),
            "competitors": related_records.competitors(ident),
        }
        apply_fields(document, record, mapping.fields, mapping.list_separator)
        return {k: v for k, v in document.items() if v is not None}
