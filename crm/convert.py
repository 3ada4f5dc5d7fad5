"""One entry point for every CRM: record + mapping + evaluation date → a deal document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine.errors import InputProblem
from . import hubspot, odoo, salesforce
from .common import Collector, Mapping, MappingError, load_mapping

KINDS: dict[str, Callable[..., dict]] = {
    "salesforce": salesforce.to_document,
    "hubspot": hubspot.to_document,
    "odoo": odoo.to_document,
}


def convert(kind: str, record: Any, *, as_of: str, mapping: Mapping | None = None, source: str = "record") -> dict:
    """The deal document for one CRM record; MappingError lists every unmapped value at once.

    The evaluation date is the caller's (`as_of`): dealcoach never reads the clock.
    """
    if kind not in KINDS:
        raise MappingError(source, [InputProblem("", f"unknown CRM {kind!r}; allowed: {', '.join(KINDS)}")])
    if not isinstance(record, dict):
        raise MappingError(source, [InputProblem("", f"expected a {kind} record (a JSON object), got {type(record).__name__}")])
    mapping = mapping or load_mapping(kind)
    found = Collector(source)
    document = KINDS[kind](record, mapping, as_of, found)
    found.raise_if_any()
    return document
