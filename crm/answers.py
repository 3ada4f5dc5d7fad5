"""CRM query responses as returned: the records of a page (or of several pages), and the CRM's error answers.

Every CRM answers a query with an envelope around a page of records (Salesforce's SOQL `records`, HubSpot's
`results`, Odoo's JSON-RPC `result`, 纷享销客's `data.dataList`, 销售易's `data.records`), and an error in an
envelope of its own (纷享销客 and 销售易 even with HTTP 200). A response is read whole: an error answer is
reported as the CRM's error (never as an empty page of deals), and a page's records become one deal each
(a `Page` of `Entry`s, each converted on its own). A page that says more records follow is noted.

A bundle sends the related objects' query responses alongside the main ones, e.g. for 纷享销客 and 销售易:

    {"opportunities": <response or [responses]>, "contacts": <...>, "competitors": <...>, "people": <...>}

A response alone is the main part's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.errors import InputProblem
from .common import Collector, Mapping, MappingError, PageFields, json_kind

BUNDLE_PARTS = ("opportunities", "contacts", "competitors", "people")


class CrmAnswerError(MappingError):
    """The CRM answered the query with an error: nothing to review, and the caller must know why."""


@dataclass(frozen=True)
class Envelope:
    """How one CRM wraps a page: where the records are, and how an error answer reads."""

    crm: str
    label: str
    records: Callable[[dict], Any]  # the records list of a successful answer (None when absent)
    error: Callable[[dict], tuple[str, str] | None]  # (code, message) of an error answer, or None
    looks_like: Callable[[dict], bool]  # whether an object is one of this CRM's answers (not a bundle)
    error_field: str  # the envelope's field holding the error code
    more: Callable[[dict], str | None] = lambda response: None  # a note when the page says more records follow


@dataclass(frozen=True)
class Entry:
    """One deal of a CRM input: how a person names it, the record the mapping's `skip` list reads, and its conversion
    (mapping, evaluation date, problem collector → deal document)."""

    record_id: str | None
    name: str | None
    record: dict
    convert: Callable[[Mapping, str, Collector], dict]


@dataclass
class Page:
    """The deals of one CRM input, and notes about it (more pages to fetch, records the CRM could not read).
    `single` marks a bare record rather than a response: its problems carry the input's name alone."""

    entries: list[Entry]
    notes: list[str] = field(default_factory=list)
    single: bool = False


def responses(value: Any, path: str, envelope: Envelope, problems: list[InputProblem], notes: list[str] | None = None) -> list[dict]:
    """The records of one response or of a list of page responses at `path`; error answers go to `problems`,
    "more records follow" to `notes`."""
    answers = value if isinstance(value, list) else [value]
    records: list[dict] = []
    for number, response in enumerate(answers):
        where = f"{path}[{number}]" if isinstance(value, list) else path
        if not isinstance(response, dict) or not envelope.looks_like(response):
            problems.append(InputProblem(where, f"expected a {envelope.label} query response, got {json_kind(response)}"
                                         + ("" if not isinstance(response, dict) else f" with keys {', '.join(list(response)[:6]) or 'none'}")))
            continue
        failure = envelope.error(response)
        if failure is not None:
            code, message = failure
            field = f"{where}.{envelope.error_field}" if where else envelope.error_field
            problems.append(InputProblem(field, f"{envelope.label} answered with error {code}: {message or '(no message)'}; "
                                                 "this is the CRM's error, not a page of records: nothing here was reviewed"))
            continue
        page = envelope.records(response)
        more = envelope.more(response)
        if more and notes is not None:
            notes.append(f"{where or envelope.label + ' response'}: {more}")
        if page is None:
            problems.append(InputProblem(where, f"a {envelope.label} answer without records: send the query response as it came"))
            continue
        if not isinstance(page, list):
            problems.append(InputProblem(where, f"the records of a {envelope.label} answer should be a list, got {json_kind(page)}"))
            continue
        for index, record in enumerate(page):
            if isinstance(record, dict):
                records.append(record)
            else:
                problems.append(InputProblem(f"{where} record {index}", f"expected a record (an object), got {json_kind(record)}"))
    return records


def bundle(
    data: Any, envelope: Envelope, source: str, notes: list[str] | None = None, *,
    parts: tuple[str, ...] = BUNDLE_PARTS, envelopes: dict[str, Envelope] | None = None,
) -> dict[str, list[dict]]:
    """The records of each part of a bundle (or of a lone response or list of pages of the main part, the first
    of `parts`); CrmAnswerError lists every error answer and every part that is not a response. A part may
    have its own envelope (`envelopes`), e.g. HubSpot's association answers."""
    main = parts[0]
    if isinstance(data, list) or (isinstance(data, dict) and envelope.looks_like(data)):
        given = {main: data}
    elif not isinstance(data, dict):
        raise CrmAnswerError(source, [InputProblem("", f"expected a {envelope.label} query response or a bundle of them (a JSON object), "
                                                       f"got {json_kind(data)}")])
    else:
        unknown = [key for key in data if key not in parts]
        if unknown or main not in data:
            expected = f"{envelope.label} query response, or a bundle with the parts " + ", ".join(parts)
            detail = f"unknown parts: {', '.join(map(repr, unknown[:5]))}" if unknown else f"no \"{main}\" part"
            raise CrmAnswerError(source, [InputProblem("", f"expected a {expected} ({detail})")])
        given = data
    problems: list[InputProblem] = []
    records = {
        part: responses(given[part], "" if given is not data else part, (envelopes or {}).get(part, envelope), problems, notes)
        for part in given
    }
    if problems:
        raise CrmAnswerError(source, problems)
    return records


def paged(envelope: Envelope, fields: PageFields) -> Callable[[Any, str], Page]:
    """The reader of a CRM whose opportunities come with their related records in separate query responses (纷享销客, 销售易)."""

    def read(data: Any, source: str) -> Page:
        notes: list[str] = []
        parts = bundle(data, envelope, source, notes)
        related = {part: found for part, found in parts.items() if part != "opportunities"}
        entries = [
            Entry(*fields.identity(record), record,
                  lambda mapping, as_of, found, record=record: fields.document(record, mapping, as_of, found, related))
            for record in parts["opportunities"]
        ]
        return Page(entries, notes)

    return read
