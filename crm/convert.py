"""One entry point for every CRM: a record (or a query response of many) + mapping + evaluation date → deal documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine.errors import InputProblem
from . import fxiaoke, hubspot, neocrm, odoo, salesforce
from .answers import Page
from .common import Collector, Mapping, MappingError, get_path, load_mapping

# Each CRM's reader: its input as returned (a query response, a bundle of them, or one record) → a Page of deals.
KINDS: dict[str, Callable[[Any, str], Page]] = {
    "salesforce": salesforce.read,
    "hubspot": hubspot.read,
    "odoo": odoo.read,
    "fxiaoke": fxiaoke.read,
    "neocrm": neocrm.read,
}
NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot", "odoo": "Odoo", "fxiaoke": "纷享销客", "neocrm": "销售易"}


@dataclass(frozen=True)
class Converted:
    """One record of a CRM input: its deal document, or why it is not reviewed (bad values, or skipped by the mapping)."""

    index: int
    record_id: str | None
    name: str | None
    source: str
    document: dict | None = None
    error: MappingError | None = None
    skipped: InputProblem | None = None
    record: dict | None = None  # the CRM's own deal record, as sent (what write-back reads its owner and fingerprint from)

    @property
    def shown(self) -> str:
        """The record as a person recognises it: id and name."""
        return " ".join(part for part in (self.record_id, f"({self.name})" if self.name else None) if part) or f"record {self.index}"


def _checked(kind: str, source: str) -> None:
    if kind not in KINDS:
        raise MappingError(source, [InputProblem("", f"unknown CRM {kind!r}; allowed: {', '.join(KINDS)}")])


def _skipped(record: dict, mapping: Mapping) -> InputProblem | None:
    """Why the mapping says this record is not coached (won, lost, void), or None."""
    for field, values in mapping.skip.items():
        value = get_path(record, field)
        for one in value if isinstance(value, list) else [value]:
            if one is not None and str(one) in values:
                return InputProblem(field, f"not coached: the mapping's skip list holds the value {str(one)!r} (won, lost or void)")
    return None


class Records(list):
    """The converted records of one CRM input (a list of Converted), with notes about the input (more pages to
    fetch, sub-query rows not sent, records the CRM could not read)."""

    def __init__(self, converted: list[Converted], notes: list[str]):
        super().__init__(converted)
        self.notes = notes


def records(kind: str, data: Any, *, as_of: str, mapping: Mapping | None = None, source: str = "record") -> Records:
    """Every record of a CRM input, converted: a query response (or a bundle of them, or a list of pages) holds a
    page of deals, a bare record one. The CRM's error answer raises CrmAnswerError.

    The evaluation date is the caller's (`as_of`): dealcoach never reads the clock.
    """
    _checked(kind, source)
    mapping = mapping or load_mapping(kind)
    page = KINDS[kind](data, source)
    converted = []
    for index, entry in enumerate(page.entries):
        label = source if page.single else f"{source}#{entry.record_id}" if entry.record_id else f"{source}#{index}"
        skipped = _skipped(entry.record, mapping)
        if skipped:
            converted.append(Converted(index, entry.record_id, entry.name, label, skipped=skipped, record=entry.record))
            continue
        found = Collector(label)
        document = entry.convert(mapping, as_of, found)
        error = MappingError(label, found.problems) if found.problems else None
        converted.append(Converted(index, entry.record_id, entry.name, label, document=None if error else document, error=error,
                                   record=entry.record))
    return Records(converted, page.notes)


def convert(kind: str, record: Any, *, as_of: str, mapping: Mapping | None = None, source: str = "record") -> dict:
    """The deal document for one CRM record; MappingError lists every unmapped value at once. A query response
    must then hold exactly one record that is coached."""
    return one(records(kind, record, as_of=as_of, mapping=mapping, source=source), None, source)


class RecordChoiceError(MappingError):
    """A query response whose record to review is not clear: none, several without a choice, or an unknown choice."""


def one(converted: list[Converted], chosen: str | None, source: str) -> dict:
    """The deal document of the record `chosen` (its id or name), or of the only record; the record's own
    problems raise MappingError."""
    if chosen is not None:
        matches = [c for c in converted if chosen in (c.record_id, c.name)]
    else:
        matches = converted
    if len(matches) != 1:
        listed = "; ".join(c.shown for c in converted[:10]) + (f"; and {len(converted) - 10} more" if len(converted) > 10 else "")
        if not converted:
            message = "the response holds no records: nothing to review"
        elif chosen is None:
            message = f"the response holds {len(converted)} records: {listed}"
        else:
            message = f"no single record has the id or name {chosen!r}; the records: {listed}"
        more = getattr(converted, "notes", None)
        if more:
            message += f" (note: {more[0]})"
        raise RecordChoiceError(source, [InputProblem("", message)])
    picked = matches[0]
    if picked.skipped:
        raise MappingError(picked.source, [picked.skipped])
    if picked.error is not None:
        raise picked.error
    assert picked.document is not None
    return picked.document
