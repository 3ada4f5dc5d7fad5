"""CRM query responses as returned: the records of a page (or of several pages), and the CRM's error answers.

纷享销客 and 销售易 answer a query with an envelope around a page of records, and an error as a normal
HTTP 200 answer with an error code in the envelope. A response is read whole: an error envelope is
reported as the CRM's error (never as an empty page of deals), and a page's records become one deal each.

A bundle sends the related objects' query responses alongside the opportunities':

    {"opportunities": <response or [responses]>, "contacts": <...>, "competitors": <...>, "people": <...>}

A response alone is the opportunities'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine.errors import InputProblem
from .common import MappingError, json_kind

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


def _pages(value: Any, path: str, envelope: Envelope, problems: list[InputProblem]) -> list[dict]:
    """The records of one response or of a list of page responses at `path`; error answers go to `problems`."""
    responses = value if isinstance(value, list) else [value]
    records: list[dict] = []
    for number, response in enumerate(responses):
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


def bundle(data: Any, envelope: Envelope, source: str) -> dict[str, list[dict]]:
    """The records of each part of a bundle (or of a lone opportunities response); CrmAnswerError lists every
    error answer and every part that is not a response."""
    if not isinstance(data, dict):
        raise CrmAnswerError(source, [InputProblem("", f"expected a {envelope.label} query response or a bundle of them (a JSON object), "
                                                       f"got {json_kind(data)}")])
    if envelope.looks_like(data):
        parts = {"opportunities": data}
    else:
        unknown = [key for key in data if key not in BUNDLE_PARTS]
        if unknown or "opportunities" not in data:
            expected = f"{envelope.label} query response, or a bundle with the parts " + ", ".join(BUNDLE_PARTS)
            detail = f"unknown parts: {', '.join(map(repr, unknown[:5]))}" if unknown else "no \"opportunities\" part"
            raise CrmAnswerError(source, [InputProblem("", f"expected a {expected} ({detail})")])
        parts = data
    problems: list[InputProblem] = []
    records = {part: _pages(parts[part], "" if parts is not data else part, envelope, problems) for part in parts}
    if problems:
        raise CrmAnswerError(source, problems)
    return records
