"""Reading deal records: bytes → YAML/JSON → validated Deal, with specific errors.

Every problem is reported as (field path, what was wrong, what is allowed);
nothing here raises anything but DealInputError for bad input.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from pydantic import BaseModel, ValidationError

from .errors import DealInputError, InputProblem
from .model import Deal
from .playbook import Playbook
from .yaml_limits import AliasUsed, BoundedSafeLoader, TooDeep, TooMany

MAX_BYTES = 2_000_000
MAX_DEPTH = 32
MAX_NODES = 100_000


class _DealYamlLoader(BoundedSafeLoader):
    """Safe YAML that keeps dates as text (pydantic checks them with a field path), rejects repeated keys,
    aliases, unhashable keys and tags for values no deal holds, stops nesting at MAX_DEPTH (before any deep
    node tree exists), and reports a value its tag cannot construct at the value's line and column."""

    max_depth = MAX_DEPTH
    max_nodes = 2 * MAX_NODES  # keys count here too; check_shape then counts the values against MAX_NODES
    allow_aliases = False

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)  # its error names what was found instead
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, f"a {type(key).__name__} cannot be a key; keys are field names", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _guarded(constructor: Callable) -> Callable:
    """A tag's constructor whose refusals (int('abc'), a bool named 'maybe', a date that does not exist) become
    YAML errors at the value's line and column."""

    def construct(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> Any:
        try:
            return constructor(loader, node)
        except yaml.YAMLError:
            raise
        except Exception as error:  # whatever the text made the constructor raise: bad input, never a crash
            raise yaml.constructor.ConstructorError(None, None, _unconstructable(node, error), node.start_mark) from None

    return construct


def _not_deal_data(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
    """The constructor of tags whose values (bytes, sets, ordered pairs) no deal field takes."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    raise yaml.constructor.ConstructorError(
        None, None, f"{tag} values are not deal data; write text, a number, a list or a mapping", node.start_mark
    )


# Numbers as YAML 1.2 and every reader of a deal read them: YAML 1.1's octal (017 = 15), sexagesimal
# (1:20 = 80), hexadecimal and binary forms are not numbers here, so `amount: 017` is 17 (read from the
# text by validation) and `id: 0123` stays "0123" instead of silently becoming 83.
_YAML12_NUMBERS = {
    "tag:yaml.org,2002:int": re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*))$"),
    "tag:yaml.org,2002:float": re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
}
_DealYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, _YAML12_NUMBERS.get(tag, regexp)) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in BoundedSafeLoader.yaml_implicit_resolvers.items()
}
# The scalar tags whose constructors raise plain Python errors on bad text (the others raise YAML errors),
# and the tags that build values a deal never holds (sets would also make the order of a list vary).
_DealYamlLoader.yaml_constructors = {
    **BoundedSafeLoader.yaml_constructors,
    **{
        f"tag:yaml.org,2002:{name}": _guarded(BoundedSafeLoader.yaml_constructors[f"tag:yaml.org,2002:{name}"])
        for name in ("bool", "int", "float", "timestamp")
    },
    **{f"tag:yaml.org,2002:{name}": _not_deal_data for name in ("binary", "set", "omap", "pairs")},
}


def _unconstructable(node: yaml.ScalarNode, error: Exception) -> str:
    """Why a tagged value cannot be read, in the file's terms."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    if tag == "!!int" and len(node.value) > sys.get_int_max_str_digits() > 0:
        return f"a number of {len(node.value)} digits; numbers have at most {sys.get_int_max_str_digits()}"
    return f"{_preview(node.value)} cannot be read as {tag}"


def _preview(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else f"{shown[:37]}... ({len(text)} characters)"


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


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTAINERS = (dict, list, tuple, set, frozenset)
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # the only way JSON text makes one


def check_shape(data: Any, source: str) -> Any:
    """Refuse documents no deal needs, that cost too much to validate, or that no file can hold:
    deep nesting, huge node counts, text with unpaired surrogates."""
    _inspect(data, source, limits=True)
    return data


def _inspect(data: Any, source: str, *, limits: bool) -> None:
    """Walk every value of a document (iteratively, in document order) for unpaired surrogates and, with `limits`,
    for nesting and size past MAX_DEPTH and MAX_NODES. A value's trail of keys is a linked list (parent, key)."""
    stack: list[tuple[Any, int, tuple | None]] = [(data, 0, None)]
    count = 0
    while stack:
        node, depth, trail = stack.pop()
        count += 1
        if limits and count > MAX_NODES:
            raise DealInputError(source, [InputProblem("", f"the document has more than {MAX_NODES} values; a deal needs far fewer")])
        if isinstance(node, str):
            if not node.isascii():
                _refuse_surrogates(node, trail, source)
            continue
        if isinstance(node, dict):
            _refuse_surrogates(node, trail, source)
            children = list(node.items())
        elif isinstance(node, _CONTAINERS):
            children = list(enumerate(node))
        else:
            continue
        if limits and depth >= MAX_DEPTH:
            raise DealInputError(source, [InputProblem("", f"the document is nested deeper than {MAX_DEPTH} levels")])
        stack.extend([(child, depth + 1, (trail, key)) for key, child in reversed(children)])


def _refuse_surrogates(node: Any, trail: tuple | None, source: str) -> None:
    """DealInputError naming the field if this text, or a key of this mapping, holds an unpaired surrogate."""
    if isinstance(node, str):
        if not node.isascii() and (found := _SURROGATE.search(node)):
            raise _surrogate_error(source, trail, "text", found.group())
    elif isinstance(node, dict):
        for key in node:
            if isinstance(key, str) and not key.isascii() and (found := _SURROGATE.search(key)):
                raise _surrogate_error(source, (trail, key), "field name", found.group())


def _surrogate_error(source: str, trail: tuple | None, what: str, surrogate: str) -> DealInputError:
    parts: list = []
    while trail is not None:
        trail, part = trail
        parts.append(part)
    message = (
        f"{what} contains an unpaired surrogate {_printable(surrogate)} (half of a UTF-16 pair, not a character); "
        "remove it or re-encode the text"
    )
    return DealInputError(source, [InputProblem(_path(tuple(reversed(parts))), message)])


def _printable(text: str) -> str:
    """`text` with any unpaired surrogate written as an escape, so that it can be printed and encoded."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_text(text: str, source: str) -> Any:
    """JSON when it looks like JSON, YAML otherwise; plain data, not yet validated."""
    try:
        return _parse(text, source)
    except RecursionError:
        raise DealInputError(source, [InputProblem("", f"the document is nested deeper than {MAX_DEPTH} levels")]) from None


def _parse(text: str, source: str) -> Any:
    if not text.strip():
        raise DealInputError(source, [InputProblem("", "the file is empty; `dealcoach init` writes an example")])
    if text.lstrip().startswith(("{", "[")):
        return parse_json(text, source, max_depth=MAX_DEPTH)
    try:
        return yaml.load(text, Loader=_DealYamlLoader)  # noqa: S506 - a safe loader subclass
    except TooDeep as error:
        message = f"the document is nested deeper than {MAX_DEPTH} levels (line {error.line})"
        raise DealInputError(source, [InputProblem("", message)]) from None
    except TooMany as error:
        message = f"the document has more than {error.limit:,} keys and values (by line {error.line}); a deal needs far fewer"
        raise DealInputError(source, [InputProblem("", message)]) from None
    except AliasUsed as error:
        message = f"YAML aliases (&anchor / *alias) are not allowed in a deal file (line {error.line}, column {error.column})"
        raise DealInputError(source, [InputProblem("", message)]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DealInputError(source, [InputProblem("", f"malformed YAML{where}: {problem}")]) from None
    except (ValueError, TypeError, ArithmeticError, LookupError, AttributeError) as error:  # outside any one node
        raise DealInputError(source, [InputProblem("", f"malformed YAML: {error}")]) from None


def parse_json(text: str, source: str, max_depth: int | None = None) -> Any:
    """JSON as a deal may be written: no NaN or Infinity, no repeated key, no integer longer than Python reads,
    no unpaired surrogate, no nesting deeper than the recursion limit (or `max_depth` levels, which gives the same
    answer on every Python, whatever its decoder's own limit); anything else is DealInputError."""
    too_deep = DealInputError(source, [InputProblem("", f"the document is nested deeper than {max_depth or MAX_DEPTH} levels")])
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_json_int, object_pairs_hook=object_without_repeats)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError as error:
        raise DealInputError(
            source, [InputProblem("", f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}")]
        ) from None
    except ValueError as error:
        raise DealInputError(source, [InputProblem("", str(error))]) from None
    if max_depth is not None and deeper_than(data, max_depth):
        raise too_deep
    if _ESCAPED_SURROGATE.search(text):  # text no file can hold: refused before anyone quotes it
        _inspect(data, source, limits=False)
    return data


def deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and mappings nest more than `limit` levels (walked iteratively)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def _json_int(digits: str) -> int:
    """JSON integers as Python reads them, with a clear error past Python's limit on digits."""
    limit = sys.get_int_max_str_digits()
    if len(digits.lstrip("-")) > limit > 0:
        raise ValueError(f"a number of {len(digits.lstrip('-'))} digits; numbers have at most {limit}")
    return int(digits)


def object_without_repeats(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object whose keys are all different (as in YAML: a repeated key would silently drop a value)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key!r} appears twice in one object")
            seen.add(key)
    return found


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a deal can hold")


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith("function-"):
            text += f".{_printable(str(part))}" if text else _printable(str(part))
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
            message = f"{issue['msg']}; got {quoted(issue['input'])}"
        problems.append(InputProblem(_path(loc), message))
    return problems


def quoted(value: Any) -> str:
    """A value as an error quotes it: its repr, cut to 80 characters."""
    try:
        shown = repr(value)
    except ValueError:  # an integer longer than Python prints
        shown = f"an integer of more than {sys.get_int_max_str_digits()} digits"
    return shown if len(shown) <= 80 else shown[:77] + "..."


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
        _refuse_crm_input(data, source)
        raise DealInputError(source, [InputProblem("", f"expected a mapping of deal fields, got {type(data).__name__}")])
    return data


def _refuse_crm_input(data: Any, source: str) -> None:
    """DealInputError telling how to read `data` when it is plainly a CRM's record or response, not a deal file."""
    crm = crm_kind_of(data)
    if crm is not None:
        article = "an" if CRM_NAMES[crm][0] in "AEIOU" else "a"
        message = (f"this looks like {article} {CRM_NAMES[crm]} record or query response, not a deal file: "
                   f"read it with --from {crm} --as-of DATE (over HTTP: POST /v1/crm/{crm}/review?as_of=DATE)")
        raise DealInputError(source, [InputProblem("", message)])


def validate_deal(data: Any, playbook: Playbook, source: str = "<deal>") -> Deal:
    """A parsed document → a Deal that the engine may judge, or DealInputError."""
    check_shape(deal_document(data, source), source)
    try:
        deal = Deal.model_validate(data)
    except ValidationError as error:
        _refuse_crm_input(data, source)
        raise DealInputError(source, problems_from(error)) from None
    return check_deal(deal, playbook, source)


CRM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot", "odoo": "Odoo", "fxiaoke": "纷享销客", "neocrm": "销售易"}
# Fields that each CRM's record (or response) always has and a deal file never does: (required, any of these).
_CRM_SIGNS = {
    "salesforce": [({"StageName"}, {"attributes", "Amount", "CloseDate", "OpportunityContactRoles"})],
    "hubspot": [({"deal"}, {"contacts", "associations", "companies"}), ({"properties", "id"}, {"archived", "createdAt", "updatedAt"})],
    "odoo": [({"stage_id"}, {"expected_revenue", "partner_id", "date_deadline", "user_id"})],
    "fxiaoke": [({"errorCode"}, {"traceId", "data", "errorMessage"})],  # a query response
    "neocrm": [({"code"}, {"data", "result", "msg"})],
}


def crm_kind_of(data: Any) -> str | None:
    """Which CRM a document that is not a deal file came from, when it plainly is one CRM's record, query
    response (a page of records, or a list of them) or bundle of responses."""
    if isinstance(data, list):
        return next((crm_kind_of(item) for item in data[:1] if isinstance(item, dict)), None)
    if not isinstance(data, dict) or "stage" in data or "buying_step" in data:
        return None
    for crm, signs in _CRM_SIGNS.items():
        if any(required <= data.keys() and telling & data.keys() for required, telling in signs):
            return crm
    for key in ("records", "result", "results", "opportunities", "deals"):  # a response or bundle: judged by what it holds
        part = data.get(key)
        if isinstance(part, (dict, list)) and part is not data:
            found = crm_kind_of(part)
            if found is not None:
                return found
    return None


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


def open_for_reading(path: Path | str) -> BinaryIO:
    """A file opened for reading without waiting: a FIFO nobody writes to (a deal file swapped for one while a
    run goes on) reads as empty instead of blocking the open forever; reads then block as usual."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.set_blocking(descriptor, True)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def read_document(path: Path | str) -> Any:
    """Read one deal file (YAML or JSON, or `-` for standard input) into plain data, not yet validated."""
    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            if sys.stdin is None:
                raise DealInputError(source, [InputProblem("", "standard input is closed: give a file, or pipe the deal in")])
            raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open_for_reading(path) as file:
                raw = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise DealInputError(source, [InputProblem("", f"cannot read the file: {error.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise DealInputError(source, [InputProblem("", f"more than {MAX_BYTES} bytes (reading stopped there); the limit is {MAX_BYTES}")])
    return parse_text(decode(raw, source), source)


def read_deal(path: Path | str, playbook: Playbook) -> Deal:
    """Read and validate one deal file (YAML or JSON)."""
    return validate_deal(read_document(path), playbook, str(path))
