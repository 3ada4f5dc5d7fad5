"""The only module that touches durable-rules' process-global state.

durable-rules keeps rulesets, sessions and (through its Host) timer threads
per process. This adapter drives the C engine's low-level calls directly so
that every evaluation is:

- synchronous: every action the engine schedules runs here, on the caller's
  thread, before `Session.run` returns (no Host, so no timer threads);
- serialised: one process-wide lock, because the C code is not thread-safe;
- self-cleaning: each evaluation has its own session id, always deleted after
  every pending action has run (deleting with actions pending corrupts memory,
  and at most 1024 live sessions exist per ruleset), and after at least one
  action has run: the engine leaves a new session's action context unset until
  an action runs, and deleting a session in which none did frees whatever the
  memory held (seen: "free(): invalid pointer" on the first review in a process
  whose rules all missed). A session in which nothing fired asserts one fact for
  a rule of the adapter's own before it is deleted;
- loud: an exception in an action is re-raised as RuleError once the session
  is drained, never swallowed.

Facts reaching this module must already be normalised (engine.facts): plain
JSON types, unique `id` per session, no NaN.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import durable_rules_engine as _engine

from .errors import RuleError

OnMatch = Callable[[str, dict], Iterable[dict]]


def _check_numbers(fact: dict) -> None:
    """Refuse floats that JSON would write in exponent notation: the C engine misparses them and crashes.

    Python writes a float with an exponent when it is below 1e-4 or from 1e16 up (seen: 1e-07 gave a
    garbage session handle, then a segmentation fault).
    """
    for value in fact.values():
        if type(value) is float and value != 0 and not 1e-4 <= abs(value) < 1e16:
            raise RuleError(f"fact {fact.get('id')!r} holds {value!r}, a number the engine cannot read; round it first")
        if type(value) is dict:
            _check_numbers(value)

_lock = threading.RLock()
_compiled: dict[str, CompiledRuleset] = {}
_session_ids = itertools.count(1)


CLOSING_RULE = "dealcoach.closing"  # the adapter's own rule: an action that runs before a session is deleted
_CLOSING_FACT = "dealcoach.closing"


class CompiledRuleset:
    """A ruleset registered once per process under a unique name (with the adapter's closing rule added)."""

    def __init__(self, name: str, definition: dict[str, dict]):
        self.name = name
        self.definition = definition
        closing = {CLOSING_RULE: {"all": [{"m": {"t": _CLOSING_FACT}}]}}
        self._handle = _engine.create_ruleset(name, json.dumps({**definition, **closing}, ensure_ascii=False))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An evaluation session, held under the process lock and always deleted."""
        with _lock:
            session = Session(self._handle, str(next(_session_ids)))
            try:
                yield session
            finally:
                session.close()


class Session:
    """One evaluation: assert facts, run every action they trigger, then delete."""

    def __init__(self, handle: int, sid: str):
        self._handle = handle
        self.sid = sid
        self._state_handle: int | None = None
        self._error: BaseException | None = None
        self._failed_rule = ""
        self._acted = False

    def _assert(self, facts: list[dict]) -> None:
        if not facts:
            return
        for fact in facts:
            fact["sid"] = self.sid
        for fact in facts:
            _check_numbers(fact)
        payload = json.dumps(facts, ensure_ascii=False, allow_nan=False)
        code, state_handle = _engine.assert_facts(self._handle, payload)
        # 1: some fact matched no rule's first test. Driven through these
        # low-level calls, the other facts are still processed and their
        # actions run below on this thread (through durable's Host they would
        # be left to its timer thread), so a fact no rule needs is harmless.
        if code not in (0, 1, 3):
            kind = {2: "was already asserted"}.get(code, f"was refused (code {code})")
            raise RuleError(f"a fact {kind}: {json.dumps(facts, ensure_ascii=False)[:300]}")
        self._state_handle = state_handle

    def run(self, facts: list[dict], on_match: OnMatch) -> None:
        """Assert `facts`, then run actions until none is pending.

        `on_match(rule_name, matched_facts_by_alias)` returns new facts, asserted
        before the next action starts (forward chaining). After it raises once,
        the remaining actions are drained without it and RuleError follows.
        """
        self._assert(facts)
        if self._state_handle is None:
            return
        result = _engine.start_action_for_state(self._handle, self._state_handle)
        while result:
            self._acted = True
            fired = json.loads(result[1])
            if self._error is None:
                for rule_name, matched in fired.items():
                    try:
                        self._assert(list(on_match(rule_name, matched)))
                    except Exception as error:  # noqa: BLE001 - re-raised as RuleError after draining
                        self._error, self._failed_rule = error, rule_name
            next_message = _engine.complete_and_start_action(self._handle, self._state_handle)
            result = (None, next_message) if next_message else None
        if self._error is not None:
            raise RuleError(f"rule {self._failed_rule} failed: {type(self._error).__name__}: {self._error}") from self._error

    def close(self) -> None:
        """Drain anything still pending, run one action if none ran, then delete the session's state."""
        if self._state_handle is None:
            return
        if not self._acted:
            self._assert([{"t": _CLOSING_FACT, "id": _CLOSING_FACT}])
        pending = _engine.start_action_for_state(self._handle, self._state_handle)
        while pending:
            pending = _engine.complete_and_start_action(self._handle, self._state_handle)
        _engine.delete_state(self._handle, self.sid)


def compiled_ruleset(key: str, build: Callable[[], dict[str, dict]]) -> CompiledRuleset:
    """The ruleset for `key`, built and registered on first use in this process."""
    with _lock:
        ruleset = _compiled.get(key)
        if ruleset is None:
            ruleset = CompiledRuleset(f"dealcoach-{key}", build())
            _compiled[key] = ruleset
        return ruleset


# -- what a ruleset may ask of the engine --------------------------------------------------------------------
#
# durable-rules keeps each test of a fact as a node of a tree (a rule's tests in the order written, identical
# leading tests shared). Three fixed sizes in its C code bound that tree, and going past them does not fail
# cleanly: a node's children live in a 512-slot table that evaluation probes until it finds a free slot (full:
# it never stops); evaluation keeps at most 64 pending nodes (more: "error code 303" while asserting); a node
# ends at most 256 rules ("error code 108" while compiling). capacity_problems checks a definition against
# them, with a margin, before the engine sees it.

MAX_CHILDREN = 500  # of 512 slots (rete.c NEXT_BUCKET_LENGTH): a free slot must remain
MAX_PENDING = 63  # of 64 (events.c MAX_STACK_SIZE); the count below is an upper bound already
MAX_ENDING = 250  # of 256 (rules.h BETA_LIST_LENGTH)
_COMPARISONS = ("$neq", "$gt", "$gte", "$lt", "$lte", "$eq")


class _Node:
    __slots__ = ("children", "ending", "label")

    def __init__(self, label: str):
        self.children: dict[tuple, _Node] = {}
        self.ending = 0
        self.label = label


def _grow(node: _Node, expression: dict) -> _Node:
    """The node at which `expression` ends, below `node` (created as the engine would create it)."""
    if "$and" in expression:
        for part in expression["$and"]:
            node = _grow(node, part)
        return node
    if "$or" in expression:
        joined = _Node(node.label + " | ...")
        for branch in expression["$or"]:
            _grow(node, branch).children[("or", "", str(id(joined)))] = joined
        return joined
    (operator, body), = expression.items()
    if operator in _COMPARISONS:
        (name, value), = body.items()
    else:
        operator, name, value = "$eq", operator, body
    kind = "join" if isinstance(value, dict) else operator
    key = (kind, name, json.dumps(value, sort_keys=True))
    child = node.children.get(key)
    if child is None:
        child = node.children[key] = _Node(f"{name} {operator.lstrip('$')} {json.dumps(value, ensure_ascii=False)}")
    return child


def _at_once(node: _Node) -> int:
    """How many children of `node` one fact can match together: equal-to tests of one field count once."""
    equal_fields = {name for (kind, name, _) in node.children if kind == "$eq"}
    return len(equal_fields) + sum(1 for (kind, _, _) in node.children if kind != "$eq")


def _pending(node: _Node, seen: dict[int, int]) -> int:
    """The most nodes evaluation may hold pending below `node` (depth-first, children pushed together)."""
    if id(node) in seen:
        return seen[id(node)]
    deepest = max((_pending(child, seen) for child in node.children.values()), default=0)
    result = 0 if not node.children else _at_once(node) - 1 + max(1, deepest)
    seen[id(node)] = result
    return result


def capacity_problems(definition: dict[str, dict]) -> list[str]:
    """What in a ruleset definition would go past the engine's fixed sizes (empty: it fits), in words."""
    root = _Node("")
    for rule in definition.values():
        for condition in rule.get("all", []):
            for expression in condition.values():
                _grow(root, expression).ending += 1
    problems: list[str] = []
    nodes: dict[int, _Node] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in nodes:
            nodes[id(node)] = node
            stack.extend(node.children.values())
    for node in nodes.values():
        where = f" after `{node.label.strip()}`" if node.label.strip() else ""
        if len(node.children) > MAX_CHILDREN:
            problems.append(f"{len(node.children)} different tests follow one another{where}; the engine holds {MAX_CHILDREN}")
        if node.ending > MAX_ENDING:
            problems.append(f"{node.ending} rules or alternatives end on the same test{where}; the engine holds {MAX_ENDING}")
    pending = _pending(root, {}) + 1
    if pending > MAX_PENDING:
        problems.append(f"up to {pending} tests could hold for one fact at the same time; the engine follows {MAX_PENDING}")
    return problems
