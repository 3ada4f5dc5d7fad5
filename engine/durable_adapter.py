"""The only module that touches durable-rules' process-global state.

durable-rules keeps rulesets, sessions and (through its Host) timer threads
per process. This adapter drives the C engine's low-level calls directly so
that every evaluation is:

- synchronous: every action the engine schedules runs here, on the caller's
  thread, before `Session.run` returns (no Host, so no timer threads);
- serialised: one process-wide lock, because the C code is not thread-safe;
- self-cleaning: each evaluation has its own session id, always deleted after
  every pending action has run (deleting with actions pending corrupts memory,
  and at most 1024 live sessions exist per ruleset);
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


class CompiledRuleset:
    """A ruleset registered once per process under a unique name."""

    def __init__(self, name: str, definition: dict[str, dict]):
        self.name = name
        self.definition = definition
        self._handle = _engine.create_ruleset(name, json.dumps(definition, ensure_ascii=False))

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
        """Drain anything still pending, then delete the session's state."""
        if self._state_handle is None:
            return
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
