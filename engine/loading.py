"""Reading deal records: bytes → YAML/JSON → validated Deal, with specific errors.

Every problem is reported as (field path, what was wrong, what is allowed);
nothing here raises anything but DealInputError for bad input.
"""

from __future__ import annotations

import codecs
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import DealInputError, InputProblem
from .model import Deal
from .playbook import Playbook

MAX_BYTES = 2_000_000


# libyaml's parser when PyYAML was built with it (its wheels are), else the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DealYamlLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that keeps dates as text (pydantic checks them with a field path) and rejects repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_DealYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


def decode(raw: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is a clear error."""
    if len(raw) > MAX_BYTES:
        raise DealInputError(source, [InputProblem("", f"file is {len(raw)} bytes; the limit is {MAX_BYTES}")])
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"), (b"", "utf-8-sig")):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as error:
                raise DealInputError(
                    source,
                    [InputProblem("", f"not valid {encoding.upper().removesuffix('-SIG')} text at byte {error.start}; save the file as UTF-8")],
                ) from None
    raise AssertionError("unreachable: the utf-8 case matches every input")


MAX_DEPTH = 32
MAX_NODES = 100_000


def check_shape(data: Any, source: str) -> Any:
    """Refuse documents no deal needs and that cost too much to validate: YAML aliases, deep nesting, huge node counts."""
    seen: set[int] = set()
    stack = [(data, 0)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise DealInputError(source, [InputProblem("", f"the document has more than {MAX_NODES} values; a deal needs far fewer")])
        if isinstance(node, (dict, list)):
            if depth >= MAX_DEPTH:
                raise DealInputError(source, [InputProblem("", f"the document is nested deeper than {MAX_DEPTH} levels")])
            if id(node) in seen:
                raise DealInputError(source, [InputProblem("", "YAML aliases (&anchor / *alias) are not allowed in a deal file")])
            seen.add(id(node))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return data


def parse_text(text: str, source: str) -> Any:
    """JSON when it looks like JSON, YAML otherwise."""
    try:
        return _parse(text, source)
    except RecursionError:
        raise DealInputError(source, [InputProblem("", f"the document is nested deeper than {MAX_DEPTH} levels")]) from None


def _parse(text: str, source: str) -> Any:
    if not text.strip():
        raise DealInputError(source, [InputProblem("", "the file is empty; `dealcoach init` writes an example")])
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            raise DealInputError(
                source, [InputProblem("", f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}")]
            ) from None
        except ValueError as error:
            raise DealInputError(source, [InputProblem("", str(error))]) from None
    try:
        return yaml.load(text, Loader=_DealYamlLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DealInputError(source, [InputProblem("", f"malformed YAML{where}: {problem}")]) from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a deal can hold")


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith("function-"):
            text += f".{part}" if text else str(part)
    return text


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The fields a model accepts at `loc` (used to say what an unknown field could have been)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
                break
        else:
            return None
    return list(getattr(current, "model_fields", {}))


def problems_from(error: ValidationError, model: type[BaseModel] = Deal) -> list[InputProblem]:
    """Turn pydantic's errors into (path, message) pairs a rep can act on."""
    return problems_from_errors(error.errors(include_url=False), model)


def problems_from_errors(errors: list[dict], model: type[BaseModel] = Deal) -> list[InputProblem]:
    """The same for pydantic-style error dicts (e.g. a web framework's, with the location made relative)."""
    problems = []
    for issue in errors:
        loc = tuple(issue["loc"])
        kind = issue["type"]
        if kind == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            message = "unknown field" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        elif kind == "missing":
            message = "required field is missing"
        elif kind in ("unknown_term", "value_error", "assertion_error"):
            message = issue["msg"].removeprefix("Value error, ")
        else:
            given = repr(issue["input"])
            message = f"{issue['msg']}; got {given if len(given) <= 80 else given[:77] + '...'}"
        problems.append(InputProblem(_path(loc), message))
    return problems


def check_consistency(deal: Deal) -> list[InputProblem]:
    """Cross-field rules of a deal record: unique contact ids, known committee members, dates not after as_of."""
    problems = []
    if deal.stage_entered > deal.as_of:
        problems.append(InputProblem("stage_entered", f"{deal.stage_entered} is after as_of {deal.as_of}"))
    ids = [contact.id for contact in deal.contacts]
    for index, contact in enumerate(deal.contacts):
        if ids.index(contact.id) != index:
            problems.append(InputProblem(f"contacts[{index}].id", f"{contact.id!r} is already the id of contacts[{ids.index(contact.id)}]"))
        if contact.last_contact and contact.last_contact > deal.as_of:
            problems.append(InputProblem(f"contacts[{index}].last_contact", f"{contact.last_contact} is after as_of {deal.as_of}"))
    for index, member in enumerate(deal.decision.committee):
        if member not in ids:
            problems.append(
                InputProblem(f"decision.committee[{index}]", f"{member!r} is not a contact id; known: {', '.join(ids) or 'none'}")
            )
    return problems


def check_against_playbook(deal: Deal, playbook: Playbook) -> list[InputProblem]:
    """Stage, buying step and milestone ids exist in the deal's stage model."""
    model = playbook.stage_model(deal.stage_model)
    if model is None:
        return [InputProblem("stage_model", f"unknown stage model {deal.stage_model!r}; allowed: {', '.join(playbook.stage_models)}")]
    problems = []
    if model.find_stage(deal.stage) is None:
        allowed = ", ".join(f"{s.id} ({s.name.zh})" for s in model.stages)
        problems.append(InputProblem("stage", f"{deal.stage!r} is not a stage of {model.id}; allowed: {allowed}"))
    if model.find_step(deal.buying_step) is None:
        allowed = ", ".join(f"{s.buying_step.id} ({s.buying_step.name.zh})" for s in model.stages)
        problems.append(InputProblem("buying_step", f"{deal.buying_step!r} is not a buying step of {model.id}; allowed: {allowed}"))
    if deal.entry_step is not None:
        entry = model.find_step(deal.entry_step)
        step = model.find_step(deal.buying_step)
        if entry is None:
            allowed = ", ".join(f"{s.buying_step.id} ({s.buying_step.name.zh})" for s in model.stages)
            problems.append(InputProblem("entry_step", f"{deal.entry_step!r} is not a buying step of {model.id}; allowed: {allowed}"))
        elif step is not None and entry > step:
            problems.append(InputProblem("entry_step", f"{deal.entry_step!r} is after the customer's current buying_step {deal.buying_step!r}"))
    for index, competitor in enumerate(deal.competitors):
        if competitor.entered_step is not None and model.find_step(competitor.entered_step) is None:
            allowed = ", ".join(f"{s.buying_step.id} ({s.buying_step.name.zh})" for s in model.stages)
            message = f"{competitor.entered_step!r} is not a buying step of {model.id}; allowed: {allowed}"
            problems.append(InputProblem(f"competitors[{index}].entered_step", message))
    for index, milestone in enumerate(deal.milestones):
        if model.find_milestone(milestone) is None:
            allowed = ", ".join(m.id for s in model.stages for m in s.milestones)
            problems.append(
                InputProblem(f"milestones[{index}]", f"{milestone!r} is not a milestone of {model.id}; allowed: {allowed}")
            )
    return problems


def deal_document(data: Any, source: str) -> dict:
    """A parsed document that can be a deal (a mapping of fields), or DealInputError saying what it is instead."""
    if not isinstance(data, dict):
        raise DealInputError(source, [InputProblem("", f"expected a mapping of deal fields, got {type(data).__name__}")])
    return data


def validate_deal(data: Any, playbook: Playbook, source: str = "<deal>") -> Deal:
    """A parsed document → a Deal that the engine may judge, or DealInputError."""
    check_shape(deal_document(data, source), source)
    try:
        deal = Deal.model_validate(data)
    except ValidationError as error:
        raise DealInputError(source, problems_from(error)) from None
    return check_deal(deal, playbook, source)


def check_deal(deal: Deal, playbook: Playbook, source: str) -> Deal:
    """The checks pydantic cannot make (cross-field rules, the stage model); the deal, or DealInputError.
    A deal already checked against this playbook version is not checked again."""
    if deal._checked_against == playbook.version_tag:
        return deal
    problems = check_consistency(deal) + check_against_playbook(deal, playbook)
    if problems:
        raise DealInputError(source, problems)
    deal._checked_against = playbook.version_tag
    return deal


def read_document(path: Path | str) -> Any:
    """Read one deal file (YAML or JSON, or `-` for standard input) into plain data, not yet validated."""
    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except OSError as error:
        raise DealInputError(source, [InputProblem("", f"cannot read the file: {error.strerror}")]) from None
    return parse_text(decode(raw, source), source)


def read_deal(path: Path | str, playbook: Playbook) -> Deal:
    """Read and validate one deal file (YAML or JSON)."""
    return validate_deal(read_document(path), playbook, str(path))
