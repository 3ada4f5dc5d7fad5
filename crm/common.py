"""What every CRM adapter shares: the mapping file, field paths, dates, and the error for unmapped values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine.errors import DealInputError, InputProblem

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


class MappingError(DealInputError):
    """A CRM record with values the mapping does not cover, or missing fields the deal needs."""


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


def load_mapping(crm: str, path: Path | str | None = None) -> Mapping:
    """The shipped default mapping for `crm`, or a company's mapping file."""
    source = Path(path) if path else MAPPINGS_DIR / f"{crm}.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        mapping = Mapping.model_validate(data)
    except (OSError, yaml.YAMLError) as error:
        raise MappingError(str(source), [InputProblem("", f"cannot read the mapping file: {error}")]) from None
    except ValidationError as error:
        problems = [InputProblem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]
        raise MappingError(str(source), problems) from None
    if mapping.crm != crm:
        raise MappingError(str(source), [InputProblem("crm", f"this mapping is for {mapping.crm!r}, not {crm!r}")])
    return mapping


def get_path(record: Any, path: str) -> Any:
    """`record["A"]["B"]` for the path "A.B"; None where any step is missing (or Odoo's False)."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is False else value


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
    """Gathers every unmapped value of one record, so all of them are reported at once."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[InputProblem] = []

    def missing(self, path: str, message: str) -> None:
        self.problems.append(InputProblem(path, message))

    def lookup(self, table: dict, value: Any, path: str, what: str) -> Any:
        if value in table:
            return table[value]
        known = ", ".join(repr(k) for k in table) or "none"
        self.missing(path, f"{what} {value!r} is not in the mapping; mapped: {known}")
        return None

    def raise_if_any(self) -> None:
        if self.problems:
            raise MappingError(self.source, self.problems)


def apply_fields(document: dict, record: dict, fields: dict[str, str], separator: str) -> None:
    """Copy mapped CRM fields into the deal document (dotted targets create nested mappings)."""
    for target, source_path in fields.items():
        value = get_path(record, source_path)
        if value is None:
            continue
        if target in ("milestones",) and isinstance(value, str):
            value = [part.strip() for part in value.split(separator) if part.strip()]
        node = document
        *parents, leaf = target.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value


def contact_extras(contact_record: dict, fields: dict[str, str], separator: str) -> dict:
    """Mapped CRM contact fields as dealcoach contact fields."""
    extras: dict = {}
    for target, source_path in fields.items():
        value = get_path(contact_record, source_path)
        if value is None:
            continue
        if target in ("roles", "supporter", "caveats") and isinstance(value, str):
            value = [part.strip() for part in value.split(separator) if part.strip()]
        if target == "last_contact":
            value = as_date(value)
        extras[target] = value
    return extras


def merge_role(contact: dict, target: RoleTarget) -> None:
    """Add what a role label says to a contact (labels accumulate; the first power/stance given wins)."""
    for key in ("roles", "supporter"):
        for value in getattr(target, key):
            contact.setdefault(key, [])
            if value not in contact[key]:
                contact[key].append(value)
    for key in ("power", "stance"):
        value = getattr(target, key)
        if value is not None:
            contact.setdefault(key, value)
