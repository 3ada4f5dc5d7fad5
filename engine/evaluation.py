"""Running the rulebook over one deal: two passes, findings with evidence and chains.

Pass 1 asserts the base facts; derivations and presence-only findings fire in
whatever order the engine likes — their results do not depend on it. Pass 2
asserts the ledger (explicit counts of every pass-1 derivation); rules that
judge absence ("no coach") fire then. The findings are sorted at the end, so
the same deal gives the same findings whatever the order of its facts.

Rules that test only base facts (or the ledger) are evaluated in Python,
compiled from their durable-rules definition (engine.base_fact_rules); their
derived facts are asserted for the engine's rules like any other. Only the
fields some engine rule reads reach durable-rules (less JSON both ways);
actions see the full facts, looked up here by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from . import durable_adapter
from .errors import RuleError
from .facts import FactSet
from .base_fact_rules import Split, split
from .playbook import Thresholds
from .report import ChainStep, DerivedFact, Finding, assembled
from .rulebook import BASE_FACTS, LEDGER, AliasInfo, Derivation, FindingRule, Rule, Rulebook, rule_key

IN_PYTHON = frozenset({*BASE_FACTS, LEDGER})  # rules reading only these facts are evaluated in Python


@dataclass(slots=True)
class Found:
    """One finding as the rules found it: its rule, subject and parameters, and the activation behind it (the durable
    rule name and the facts it matched, for its evidence and chain). A report's Finding is made only of the ones a
    review keeps (about half are set aside), with their rank, card, evidence and chain (Outcome.finding)."""

    rule: FindingRule
    subject: str | None
    params: dict[str, Any]
    durable_name: str
    matched: dict[str, dict]

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def severity(self):
        return self.rule.severity


@dataclass
class _Derived:
    name: str
    subject: str
    fact: dict
    evidence: set[str]
    chain: list[ChainStep]


@dataclass(frozen=True)
class Compiled:
    """A rulebook for one set of thresholds: the rules left to the engine, those evaluated in Python by fact type."""

    definition: dict[str, dict]
    ruleset: durable_adapter.CompiledRuleset | None
    in_python: Split
    aliases: dict[str, dict[str, AliasInfo]]
    ledger_fields: tuple[str, ...]
    fields_read: dict[str, frozenset[str]]
    marks: dict[str, str | None]  # per finding rule, its mark's value
    acting: dict[str, tuple[str, Rule, bool]]  # per durable rule name: its rule's key, the rule, whether an alternative

    def slim(self, facts: list[dict]) -> list[dict]:
        """The facts as the engine needs them: only fields a rule reads, only types a rule matches."""
        slim = []
        for fact in facts:
            keep = self.kept_fields.get(fact["t"])
            if keep is not None:
                slim.append({name: fact[name] for name in keep if name in fact})
        return slim

    @cached_property
    def kept_fields(self) -> dict[str, tuple[str, ...]]:
        """`fields_read` in a fixed order: the engine is sent the same JSON whatever the process."""
        return {fact_type: tuple(sorted(names)) for fact_type, names in self.fields_read.items()}


@lru_cache(maxsize=32)
def compiled(rulebook: Rulebook, thresholds: Thresholds, *, engine_only: bool = False) -> Compiled:
    """The rulebook compiled for one set of thresholds, registered once per process. `engine_only` leaves every
    rule to durable-rules (the reference the Python evaluation is tested against)."""
    definition = rulebook.definition(thresholds)
    in_python = split({} if engine_only else definition, IN_PYTHON, after=LEDGER)
    for_engine = definition if engine_only else in_python.for_engine
    ruleset = None
    if for_engine:
        # named by content: the same rules share one engine ruleset, different ones never do
        name = hashlib.sha256(json.dumps(for_engine, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
        ruleset = durable_adapter.compiled_ruleset(name, lambda: for_engine)
    return Compiled(
        definition,
        ruleset,
        in_python,
        rulebook.aliases(definition),
        rulebook.ledger_fields(definition),
        rulebook.fields_read(for_engine),
        {code: rule.mark.value if rule.mark else None for code, rule in rulebook.findings.items()},
        {name: (rule_key(name), rulebook.rules[rule_key(name)], rule_key(name) != name) for name in definition},
    )


@dataclass
class _Evaluation:
    """State of one evaluation: what was derived, what was found."""

    rulebook: Rulebook
    compiled: Compiled
    facts: FactSet
    derived: dict[str, _Derived] = field(default_factory=dict)
    findings: list[Found] = field(default_factory=list)
    activations: set[tuple] = field(default_factory=set)
    ledger_fact: dict = field(default_factory=dict)
    counted: dict[str, list[_Derived]] = field(default_factory=dict)

    def ledger(self) -> dict:
        counted: dict[str, list[_Derived]] = {name: [] for name in self.compiled.ledger_fields}
        for record in self.derived.values():
            if record.name in counted:
                counted[record.name].append(record)
        self.counted = counted
        self.ledger_fact = {"t": LEDGER, "id": LEDGER, **{name: len(records) for name, records in counted.items()}}
        return self.ledger_fact

    def _full(self, fact_id: str) -> dict:
        if fact_id == LEDGER:
            return self.ledger_fact
        if fact_id in self.derived:
            return self.derived[fact_id].fact
        return self.facts.by_id[fact_id]

    def _grounds(self, rule_key: str, matched: dict[str, dict]) -> tuple[set[str], list[ChainStep]]:
        """The input paths and reasoning steps behind one rule activation."""
        evidence: set[str] = set()
        chain: list[ChainStep] = []
        aliases = self.compiled.aliases[rule_key]
        for alias, fact in matched.items():
            info = aliases[alias]
            if info.fact_type == LEDGER:
                for name in info.fields:
                    counted = self.counted[name]
                    chain.append(ChainStep(step="counted", rule=name, fact=None, count=len(counted)))
                    for record in counted:
                        evidence |= record.evidence
                    if not counted:
                        evidence.add("contacts")
            elif fact["id"] in self.derived:
                record = self.derived[fact["id"]]
                evidence |= record.evidence
                chain.extend(step for step in record.chain if step not in chain)
            else:
                evidence.update(self.facts.provenance[fact["id"]].paths(info.fields))
        return evidence, chain

    def in_python(self, facts: list[dict], by_type: dict[str, list[dict]]) -> list[dict]:
        """Run the rules compiled to Python over `facts` (the base facts in pass 1, the ledger in pass 2): the
        single-fact rules and the joins that read them (`by_type`: every fact so far, by type), acting in the order
        the engine would, by each rule's place in the definition (which alternative of a rule, which variant of a
        derivation comes first). The derived facts for the engine (slim). A failing action raises RuleError naming
        its rule, as in the engine."""
        rules = self.compiled.in_python
        matches: list[tuple[int, int, str, dict[str, dict], tuple[str, ...]]] = []
        for fact in facts:
            tests = rules.tests.get(fact["t"])
            if tests is not None:
                for rule in tests.matches(fact):
                    matches.append((rule.place, len(matches), rule.name, {rule.alias: fact}, (fact["id"],)))
        for join in rules.joins_after_ledger if LEDGER in by_type else rules.joins:
            for combination in join.combinations(by_type):
                matched = dict(zip(join.aliases, combination, strict=True))
                matches.append((join.place, len(matches), join.name, matched, tuple(sorted(fact["id"] for fact in combination))))
        matches.sort()
        derived: list[dict] = []
        name = ""
        try:
            for _, _, name, matched, ids in matches:
                derived.extend(self.act(name, matched, ids))
        except RuleError:
            raise
        except Exception as error:  # noqa: BLE001 - re-raised as RuleError, as the engine's actions are
            raise RuleError(f"rule {name} failed: {type(error).__name__}: {error}") from error
        return derived

    def on_match(self, durable_name: str, matched: dict[str, dict]) -> list[dict]:
        """What durable-rules' action for one activation does (the engine's matched facts carry only their id and the
        fields rules read: the action sees the full facts)."""
        ids = tuple(sorted(fact["id"] for fact in matched.values()))
        return self.act(durable_name, {alias: self._full(fact["id"]) for alias, fact in matched.items()}, ids)

    def act(self, durable_name: str, matched: dict[str, dict], ids: tuple[str, ...]) -> list[dict]:
        """Run the rule behind one activation over the full facts it matched (`ids`: theirs, sorted): record its finding
        or derived fact; the derived fact as the engine needs it (slim), if any."""
        # durable-rules splits a condition with `|` into one rule per branch, and a company rule's
        # alternatives are rules of their own (CODE~n), so facts meeting two branches fire twice:
        # act once per rule and fact set.
        key, rule, alternative = self.compiled.acting[durable_name]
        if alternative:  # alternatives match different facts of the deal: once per person (or per deal) counts
            ids = tuple(fact_id for fact_id in ids if ":" in fact_id)  # the deal's single facts have plain ids (deal, budget...)
        activation = (key, *ids)
        if activation in self.activations:
            return []
        self.activations.add(activation)
        emitted = rule.then(matched)
        if isinstance(rule, Derivation):
            evidence, chain = self._grounds(durable_name, matched)
            subject = emitted.subject or next(iter(matched.values()))["id"]
            fact_id = f"{rule.name}:{subject}"
            if fact_id in self.derived:
                return []
            chain = [*chain, ChainStep(step="derived", rule=rule.name, fact=fact_id, count=None)]
            fact = {"t": rule.name, "id": fact_id, "about": subject, **emitted.params}
            self.derived[fact_id] = _Derived(rule.name, subject, fact, evidence, chain)
            return self.compiled.slim([fact])
        assert isinstance(rule, FindingRule)
        self.findings.append(Found(rule, emitted.subject, emitted.params, durable_name, matched))
        return []

    def grounds(self, found: Found) -> tuple[list[str], list[ChainStep]]:
        """A finding's evidence and chain, worked out when asked for: only the findings a review shows need them
        (the facts they rest on do not change once the evaluation is over)."""
        evidence, chain = self._grounds(found.durable_name, found.matched)
        rule = found.rule
        chain.append(ChainStep(step="fired", rule=f"{rule.code} {rule.symbol}", fact=None, count=None))
        return sorted(evidence), chain


@dataclass(frozen=True)
class Outcome:
    """What one evaluation produced: the findings as found, and every fact the rules derived. `finding` makes a
    report Finding of one, with its evidence and chain."""

    findings: list[Found]
    derived: list[DerivedFact]
    grounds: Callable[[Found], tuple[list[str], list[ChainStep]]]
    marks: dict[str, str | None]

    def finding(self, found: Found, *, rank: int | None = None, score: int | None = None, card: str | None = None,
                folded: bool = False) -> Finding:
        """The report's Finding for one finding found, with its evidence and chain."""
        rule = found.rule
        evidence, chain = self.grounds(found)
        return assembled(Finding, {
            "code": rule.code,
            "symbol": rule.symbol,
            "kind": rule.kind,
            "severity": rule.severity,
            "section": rule.section,
            "subject": found.subject,
            "params": found.params,
            "evidence": evidence,
            "chain": chain,
            "clears_fields": list(rule.clears_fields),
            "mark": self.marks[rule.code],
            "text": None,
            "rank": rank,
            "score": score,
            "card": card,
            "folded": folded,
        })


def evaluate(rulebook: Rulebook, thresholds: Thresholds, facts: FactSet, *, engine_only: bool = False) -> Outcome:
    """All findings and derived facts for one set of facts, deterministically ordered."""
    plan = compiled(rulebook, thresholds, engine_only=engine_only)
    evaluation = _Evaluation(rulebook, plan, facts)
    by_type: dict[str, list[dict]] = {}
    for fact in facts.facts:
        by_type.setdefault(fact["t"], []).append(fact)
    found_first = evaluation.in_python(facts.facts, by_type)
    if plan.ruleset is None:
        ledger = evaluation.ledger()
        evaluation.in_python([ledger], {**by_type, LEDGER: [ledger]})
    else:
        with plan.ruleset.session() as session:
            session.run([*plan.slim(facts.facts), *found_first], evaluation.on_match)
            ledger = evaluation.ledger()
            found_from_ledger = evaluation.in_python([ledger], {**by_type, LEDGER: [ledger]})
            session.run([*plan.slim([ledger]), *found_from_ledger], evaluation.on_match)
    derived = sorted(
        (
            assembled(DerivedFact, {
                "name": r.name,
                "subject": r.subject,
                "params": {k: v for k, v in r.fact.items() if k not in ("t", "id", "about")},
                "evidence": sorted(r.evidence),
            })
            for r in evaluation.derived.values()
        ),
        key=lambda d: (d.name, d.subject),
    )
    return Outcome(sorted(evaluation.findings, key=rulebook.standing), derived, evaluation.grounds, plan.marks)
