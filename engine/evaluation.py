"""Running the rulebook over one deal: two passes, findings with evidence and chains.

Pass 1 asserts the base facts; derivations and presence-only findings fire in
whatever order the engine likes — their results do not depend on it. Pass 2
asserts the ledger (explicit counts of every pass-1 derivation); rules that
judge absence ("no coach") fire then. The findings are sorted at the end, so
the same deal gives the same findings whatever the order of its facts.

Only the fields some rule reads reach durable-rules (less JSON both ways);
actions see the full facts, looked up here by id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache

from . import durable_adapter
from .facts import FactSet
from .playbook import Thresholds
from .report import ChainStep, DerivedFact, Finding
from .rulebook import LEDGER, AliasInfo, Derivation, FindingRule, Match, Rulebook, rule_key


@dataclass
class _Derived:
    name: str
    subject: str
    fact: dict
    evidence: set[str]
    chain: list[ChainStep]


@dataclass(frozen=True)
class Compiled:
    ruleset: durable_adapter.CompiledRuleset
    aliases: dict[str, dict[str, AliasInfo]]
    ledger_fields: tuple[str, ...]
    fields_read: dict[str, frozenset[str]]

    def slim(self, facts: list[dict]) -> list[dict]:
        """The facts as the engine needs them: only fields a rule reads, only types a rule matches."""
        slim = []
        for fact in facts:
            keep = self.fields_read.get(fact["t"])
            if keep is not None:
                slim.append({name: value for name, value in fact.items() if name in keep})
        return slim


@lru_cache(maxsize=32)
def compiled(rulebook: Rulebook, thresholds: Thresholds) -> Compiled:
    """The rulebook compiled for one set of thresholds, registered once per process."""
    definition = rulebook.definition(thresholds)
    # named by content: the same rules share one engine ruleset, different ones never do
    name = hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return Compiled(
        durable_adapter.compiled_ruleset(name, lambda: definition),
        rulebook.aliases(definition),
        rulebook.ledger_fields(definition),
        rulebook.fields_read(definition),
    )


@dataclass
class _Evaluation:
    """State of one evaluation: what was derived, what was found."""

    rulebook: Rulebook
    compiled: Compiled
    facts: FactSet
    derived: dict[str, _Derived] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
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
        for alias, fact in matched.items():
            info = self.compiled.aliases[rule_key][alias]
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
                sources = self.facts.provenance[fact["id"]]
                for name in info.fields:
                    evidence.update(sources.get(name))
        return evidence, chain

    def on_match(self, durable_name: str, matched: dict[str, dict]) -> list[dict]:
        # durable-rules splits a condition with `|` into one rule per branch, and a company rule's
        # alternatives are rules of their own (CODE~n), so facts meeting two branches fire twice:
        # act once per rule and fact set.
        key = rule_key(durable_name)
        ids = sorted(fact["id"] for fact in matched.values())
        if key != durable_name:  # alternatives match different facts of the deal: once per person (or per deal) counts
            ids = [fact_id for fact_id in ids if ":" in fact_id]  # the deal's single facts have plain ids (deal, budget...)
        activation = (key, *ids)
        if activation in self.activations:
            return []
        self.activations.add(activation)
        rule = self.rulebook.rules[key]
        emitted = rule.then(Match({alias: self._full(fact["id"]) for alias, fact in matched.items()}))
        evidence, chain = self._grounds(durable_name, matched)
        if isinstance(rule, Derivation):
            subject = emitted.subject or next(iter(matched.values()))["id"]
            fact_id = f"{rule.name}:{subject}"
            if fact_id in self.derived:
                return []
            chain = [*chain, ChainStep(step="derived", rule=rule.name, fact=fact_id, count=None)]
            fact = {"t": rule.name, "id": fact_id, "about": subject, **emitted.params}
            self.derived[fact_id] = _Derived(rule.name, subject, fact, evidence, chain)
            return self.compiled.slim([fact])
        assert isinstance(rule, FindingRule)
        fired = ChainStep(step="fired", rule=f"{rule.code} {rule.symbol}", fact=None, count=None)
        self.findings.append(
            Finding.model_construct(
                code=rule.code,
                symbol=rule.symbol,
                kind=rule.kind,
                severity=rule.severity,
                section=rule.section,
                subject=emitted.subject,
                params=emitted.params,
                evidence=sorted(evidence),
                chain=[*chain, fired],
                clears_fields=list(rule.clears_fields),
                mark=rule.mark.value if rule.mark else None,
                text=None,
            )
        )
        return []


@dataclass(frozen=True)
class Outcome:
    """What one evaluation produced: the findings, and every fact the rules derived."""

    findings: list[Finding]
    derived: list[DerivedFact]


def evaluate(rulebook: Rulebook, thresholds: Thresholds, facts: FactSet) -> Outcome:
    """All findings and derived facts for one set of facts, deterministically ordered."""
    plan = compiled(rulebook, thresholds)
    evaluation = _Evaluation(rulebook, plan, facts)
    with plan.ruleset.session() as session:
        session.run(plan.slim(facts.facts), evaluation.on_match)
        session.run(plan.slim([evaluation.ledger()]), evaluation.on_match)
    derived = sorted(
        (
            DerivedFact.model_construct(
                name=r.name,
                subject=r.subject,
                params={k: v for k, v in r.fact.items() if k not in ("t", "id", "about")},
                evidence=sorted(r.evidence),
            )
            for r in evaluation.derived.values()
        ),
        key=lambda d: (d.name, d.subject),
    )
    return Outcome(sorted(evaluation.findings, key=rulebook.standing), derived)
