"""Rules over base facts only, evaluated in Python, compiled from their durable-rules definition.

A rule whose conditions test only base facts (the deal record's own facts) or
the ledger reads nothing another rule derives, so what durable-rules does for
it — test each fact, fire once per combination of distinct facts that pass — is
a predicate, or nested loops, over plain dicts. Evaluating those here saves the
engine's JSON both ways for most of the rulebook. durable-rules keeps every
rule that reads a derived fact (forward chaining) and stays the engine of
record: the tests are compiled from the very definition the engine is given; a
test that cannot be compiled to the engine's exact meaning leaves its rule to
the engine; and tests/test_base_fact_rules.py proves both give the same
findings, derived facts and chains over 10,000 generated deals.

The engine's meaning, as read in its C code (events.c) and checked value by
value against it (tests/test_base_fact_rules.py):
- a field that is missing, null, a list or an object satisfies no test against
  a constant, not even `!=`;
- numbers and booleans compare as numbers (true is 1);
- strings compare byte by byte, so only `==` and `!=` are compiled for them,
  and only against a constant without quotes, backslashes or control characters
  (the engine compares the JSON text, escapes included);
- a string compared with a number or a boolean is compared as text the engine
  formats itself: no rule means that, so meeting one raises RuleError;
- a field compared with another fact's field (a join) is compiled only as a
  test every branch needs (not inside `|`), against an earlier fact of the
  rule; numbers, or strings with `==` and `!=`, compare, except that the
  engine finds a join's equal values by a hash of their kind and bytes (1 is
  not equal to true, nor to 1.0); a missing field joins nothing; any other
  pair of values (null, a list, a text ordered or set against a number) raises
  RuleError: the engine compares them in ways no rule means, or fails.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from .code_cache import compiled_code
from .errors import RuleError

_OPERATORS = {"$eq": "==", "$neq": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_PYTHON = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
NUMBERS = frozenset({int, float, bool})
_LARGEST_EXACT = 2**53  # the engine compares an integer with a double as doubles: beyond this they differ


class NotCompiled(Exception):
    """A test whose exact meaning in the engine is not reproduced here: its rule stays with the engine."""


class _Missing:
    """A field the fact does not have: satisfies no test."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def mixed(path: str, value: object, constant: object) -> bool:
    """A text compared with a number or a boolean: the engine would compare them as text it formats; no rule means that."""
    raise RuleError(f"field {path} holds {value!r}, compared with {constant!r} of another kind")


def joined(symbol: str, value: object, other: object, path: str) -> bool:
    """A field compared with another fact's field, where the engine's meaning is reproduced; RuleError elsewhere."""
    if value is MISSING or other is MISSING:
        return False  # as the engine: a fact without the field does not join
    kind, other_kind = value.__class__, other.__class__
    if kind in NUMBERS and other_kind in NUMBERS:
        if symbol == "==" and kind is not other_kind:
            return False  # the engine finds a join's equal values by a hash of their kind and bytes: 1 is not true, nor 1.0
        return _PYTHON[symbol](value, other)
    if kind is str and other_kind is str and symbol in ("==", "!="):
        return _PYTHON[symbol](value, other)
    raise RuleError(f"field {path} holds {value!r}, compared ({symbol}) with another fact's {other!r}")


_SCOPE = {"MISSING": MISSING, "NUMBERS": NUMBERS, "mixed": mixed, "joined": joined}


class _Reads:
    """The fields a compiled rule reads, per fact position: each read once into a local variable."""

    def __init__(self) -> None:
        self.locals: dict[tuple[int, str], str] = {}

    def local(self, position: int, path: str) -> str:
        return self.locals.setdefault((position, path), f"f{position}_{len(self.locals)}")

    def statements(self, position: int, fact: str) -> list[str]:
        """`local = <field of fact>` for every field read from the fact at `position`, MISSING when absent. A dotted
        path (`role.user`) reads each object on its way once (`role` once for all of `role.*`); a missing object, or
        one that is not a mapping, gives MISSING."""
        found = []
        objects: dict[tuple[str, ...], str] = {}

        def read(names: tuple[str, ...]) -> str:
            if len(names) == 1:
                return f"{fact}.get({names[0]!r}, MISSING)"
            parent = objects.get(names[:-1])
            if parent is None:
                parent = objects[names[:-1]] = f"o{position}_{len(objects)}"
                found.append(f"{parent} = {read(names[:-1])}")
            return f"({parent}.get({names[-1]!r}, MISSING) if {parent}.__class__ is dict else MISSING)"

        for (at, path), local in self.locals.items():
            if at == position:
                found.append(f"{local} = {read(tuple(path.split('.')))}")
        return found


def _comparison(reads: _Reads, position: int, operator_name: str, path: str, constant: object) -> str:
    value = reads.local(position, path)
    symbol = _OPERATORS[operator_name]
    if type(constant) in NUMBERS:
        if type(constant) is not bool and not -_LARGEST_EXACT <= constant <= _LARGEST_EXACT:
            raise NotCompiled(f"{path}: {constant!r} is beyond exact comparison")
        # missing, null, a list or an object: false; a text: not what any rule means
        return (f"({value} {symbol} {constant!r} if {value}.__class__ in NUMBERS "
                f"else {value}.__class__ is str and mixed({path!r}, {value}, {constant!r}))")
    if type(constant) is str:
        if operator_name not in ("$eq", "$neq"):
            raise NotCompiled(f"{path}: strings are ordered by the engine byte by byte")
        if any(char in '"\\' or ord(char) < 0x20 for char in constant):
            raise NotCompiled(f"{path}: the engine compares {constant!r} as escaped JSON text")
        return (f"({value} {symbol} {constant!r} if {value}.__class__ is str "
                f"else {value}.__class__ in NUMBERS and mixed({path!r}, {value}, {constant!r}))")
    raise NotCompiled(f"{path}: a {type(constant).__name__} constant")


def compile_test(expression: object, reads: _Reads, position: int = 0, earlier: dict[str, int] | None = None,
                 every_branch: bool = True) -> str:
    """One durable-rules condition expression over the fact at `position` as a Python expression over locals
    (`earlier`: the positions of the rule's earlier aliases, which a join may read); NotCompiled if any part is
    not reproduced exactly."""
    earlier = earlier or {}
    if not isinstance(expression, dict) or len(expression) != 1:
        raise NotCompiled(f"expression {expression!r}")
    (key, body), = expression.items()
    if key in ("$and", "$or"):
        if not isinstance(body, list) or not body:
            raise NotCompiled(f"{key} over {body!r}")
        joiner = " and " if key == "$and" else " or "
        return "(" + joiner.join(compile_test(part, reads, position, earlier, every_branch and key == "$and") for part in body) + ")"
    if key in _OPERATORS:
        if not isinstance(body, dict) or len(body) != 1:
            raise NotCompiled(f"{key} over {body!r}")
        (path, constant), = body.items()
    elif key.startswith("$"):
        raise NotCompiled(f"operator {key}")
    else:
        key, path, constant = "$eq", key, body
    if not isinstance(path, str) or not path:
        raise NotCompiled(f"field {path!r}")
    if isinstance(constant, dict):
        return _join(reads, position, key, path, constant, earlier, every_branch)
    return _comparison(reads, position, key, path, constant)


def _join(reads: _Reads, position: int, operator_name: str, path: str, reference: dict, earlier: dict[str, int],
          every_branch: bool) -> str:
    if len(reference) != 1:
        raise NotCompiled(f"{path}: compared with {reference!r}")
    (alias, field), = reference.items()
    if not every_branch:
        raise NotCompiled(f"{path}: a join inside `|`")
    if not isinstance(field, str) or alias not in earlier:
        raise NotCompiled(f"{path}: compared with {alias}.{field}, not an earlier fact of the rule")
    value, other = reads.local(position, path), reads.local(earlier[alias], field)
    return f"joined({_OPERATORS[operator_name]!r}, {value}, {other}, {path!r})"


def _define(source: str, name: str, label: str) -> Callable:
    scope = dict(_SCOPE)
    exec(compiled_code(source, label), scope)  # noqa: S102 - our own source: every constant and name written with repr
    return scope[name]


@dataclass(frozen=True)
class SingleFactRule:
    """One durable-rules rule (or alternative) over one fact: its name, alias, fact type and place in the definition
    (the engine runs the actions pending at once in that order)."""

    name: str
    alias: str
    fact_type: str
    place: int = 0


class FactTests:
    """Every single-fact rule over one fact type as one function: each field read once, every rule's test answered."""

    def __init__(self, fact_type: str, rules: list[SingleFactRule], conditions: list[dict]):
        self.fact_type = fact_type
        self.rules = tuple(rules)
        reads = _Reads()
        tests = [compile_test(condition, reads) for condition in conditions]
        body = [*reads.statements(0, "fact"), "return (", *(f"    {test}," for test in tests), ")"]
        self.source = "def tests(fact):\n" + "\n".join(f"    {line}" for line in body)
        self.answers: Callable[[dict], tuple[bool, ...]] = _define(self.source, "tests", f"<tests of {fact_type} facts>")

    def matches(self, fact: dict) -> list[SingleFactRule]:
        """The rules whose test `fact` meets."""
        return [rule for rule, met in zip(self.rules, self.answers(fact), strict=True) if met]


class JoinRule:
    """One durable-rules rule (or alternative) over several base facts, as nested loops over the facts by type."""

    def __init__(self, name: str, conditions: list[tuple[str, str, dict]], place: int = 0):
        self.name = name
        self.place = place  # in the definition: the engine runs the actions pending at once in that order
        self.aliases = tuple(alias for alias, _, _ in conditions)
        self.fact_types = tuple(fact_type for _, fact_type, _ in conditions)
        reads = _Reads()
        earlier: dict[str, int] = {}
        tests = []
        for position, (alias, _, expression) in enumerate(conditions):
            tests.append(compile_test(expression, reads, position, dict(earlier)))
            earlier[alias] = position
        lines = ["def combinations(by_type):", "    found = []"]
        indent = "    "
        for position, fact_type in enumerate(self.fact_types):
            lines.append(f"{indent}for f{position} in by_type.get({fact_type!r}, ()):")
            indent += "    "
            # durable-rules never puts one fact in two places of a match
            lines.extend(f"{indent}if f{position} is f{before}: continue"
                         for before in range(position) if self.fact_types[before] == fact_type)
            lines.extend(f"{indent}{statement}" for statement in reads.statements(position, f"f{position}"))
            lines.append(f"{indent}if not {tests[position]}: continue")
        lines.append(f"{indent}found.append(({', '.join(f'f{i}' for i in range(len(conditions)))},))")
        lines.append("    return found")
        self.source = "\n".join(lines)
        self.combinations: Callable[[dict[str, list[dict]]], list[tuple[dict, ...]]] = _define(
            self.source, "combinations", f"<join {name}>")


def _fact_type(expression: object) -> str | None:
    """The `t` the expression requires first (every rule condition starts with `m.t == ...`)."""
    if not isinstance(expression, dict):
        return None
    if isinstance(expression.get("t"), str):
        return expression["t"]
    parts = expression.get("$and")
    if isinstance(parts, list) and parts:
        return _fact_type(parts[0])
    return None


def _conditions(rule_definition: dict, fact_types: frozenset[str]) -> list[tuple[str, str, dict]] | None:
    """(alias, fact type, expression) per condition, when every condition tests one of `fact_types` and compiles."""
    if set(rule_definition) != {"all"} or not isinstance(rule_definition["all"], list) or not rule_definition["all"]:
        return None
    found = []
    earlier: dict[str, int] = {}
    for position, condition in enumerate(rule_definition["all"]):
        if not isinstance(condition, dict) or len(condition) != 1:
            return None
        (alias, expression), = condition.items()
        fact_type = _fact_type(expression)
        if fact_type not in fact_types or alias in earlier:
            return None
        try:
            compile_test(expression, _Reads(), position, dict(earlier))
        except NotCompiled:
            return None
        found.append((alias, fact_type, expression))
        earlier[alias] = position
    return found


@dataclass(frozen=True)
class Split:
    """A ruleset definition divided: tests per fact type, joins, and the rules left to the engine."""

    tests: dict[str, FactTests]  # single-fact rules, by the fact type they test
    joins: tuple[JoinRule, ...]  # joins that do not read `after`
    joins_after_ledger: tuple[JoinRule, ...]  # joins that read `after` (a fact asserted in a later pass)
    for_engine: dict[str, dict]


def split(definition: dict[str, dict], fact_types: frozenset[str], after: str) -> Split:
    """Compile every rule over `fact_types` only; leave the others' definitions to the engine. Joins that read the
    `after` fact (the ledger) are kept apart: they run once it exists."""
    single: dict[str, tuple[list[SingleFactRule], list[dict]]] = {}
    joins: list[JoinRule] = []
    rest: dict[str, dict] = {}
    for place, (name, rule_definition) in enumerate(definition.items()):
        conditions = _conditions(rule_definition, fact_types)
        if conditions is None:
            rest[name] = rule_definition
        elif len(conditions) == 1:
            (alias, fact_type, expression), = conditions
            rules, tests = single.setdefault(fact_type, ([], []))
            rules.append(SingleFactRule(name, alias, fact_type, place))
            tests.append(expression)
        else:
            joins.append(JoinRule(name, conditions, place))
    return Split(
        {fact_type: FactTests(fact_type, *found) for fact_type, found in single.items()},
        tuple(join for join in joins if after not in join.fact_types),
        tuple(join for join in joins if after in join.fact_types),
        rest,
    )
