"""Running the rulebook over one deal: two passes, findings with evidence and chains.

Pass 1 asserts the base facts; derivations and presence-only findings fire in
whatever order the engine likes — their results do not depend on it. Pass 2
asserts the ledger (explicit counts of every pass-1 derivation); rules that
judge absence ("no coach") fire then. The findings are sorted at the end, so
the same deal gives the same findings whatever the order of its facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import durable_adapter
from .facts import FactSet
from .playbook import Thresholds
from .report import ChainStep, DerivedFact, Finding
from .rulebook import LEDGER, Derivation, FindingRule, Match, Rulebook


@dataclass
class _Derived:
    name: str
    evidence: set[str]
    chain: list[ChainStep]
    subject: str = ""
    params: dict = field(default_factory=dict)


@dataclass
class _Compiled:
    ruleset: durable_adapter.CompiledRuleset
    aliases: dict
    ledger_fields: tuple[str, ...]


@dataclass
class _Evaluation:
    """State of one evaluation: what was derived, what was found."""

    rulebook: Rulebook
    compiled: _Compiled
    facts: FactSet
    derived: dict[str, _Derived] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    activations: set[tuple] = field(default_factory=set)

    def ledger(self) -> dict:
        counts = dict.fromkeys(self.compiled.ledger_fields, 0)
        for record in self.derived.values():
            if record.name in counts:
                counts[record.name] += 1
        return {"t": LEDGER, "id": LEDGER, **counts}

    def _grounds(self, rule_key: str, matched: dict[str, dict]) -> tuple[set[str], list[ChainStep]]:
        """The input paths and reasoning steps behind one rule activation."""
        evidence: set[str] = set()
        chain: list[ChainStep] = []
        for alias, fact in matched.items():
            info = self.compiled.aliases[rule_key][alias]
            if info.fact_type == LEDGER:
                for name in info.fields:
                    counted = [r for r in self.derived.values() if r.name == name]
                    chain.append(ChainStep(step="counted", rule=name, count=len(counted)))
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
                    evidence.update(sources.get(name, ()))
        return evidence, chain

    def on_match(self, rule_key: str, matched: dict[str, dict]) -> list[dict]:
        # durable-rules splits a condition with `|` into one rule per branch, so
        # facts meeting two branches fire twice: act once per rule and fact set.
        activation = (rule_key, *sorted(fact["id"] for fact in matched.values()))
        if activation in self.activations:
            return []
        self.activations.add(activation)
        rule = self.rulebook.rules[rule_key]
        emitted = rule.then(Match(matched))
        evidence, chain = self._grounds(rule_key, matched)
        if isinstance(rule, Derivation):
            subject = emitted.subject or next(iter(matched.values()))["id"]
            fact_id = f"{rule.name}:{subject}"
            if fact_id in self.derived:
                return []
            chain = [*chain, ChainStep(step="derived", rule=rule.name, fact=fact_id)]
            self.derived[fact_id] = _Derived(rule.name, evidence, chain, subject, emitted.params)
            return [{"t": rule.name, "id": fact_id, "about": subject, **emitted.params}]
        assert isinstance(rule, FindingRule)
        self.findings.append(
            Finding(
                code=rule.code,
                symbol=rule.symbol,
                kind=rule.kind,
                severity=rule.severity,
                section=rule.section,
                subject=emitted.subject,
                params=emitted.params,
                evidence=sorted(evidence),
                chain=[*chain, ChainStep(step="fired", rule=f"{rule.code} {rule.symbol}")],
            )
        )
        return []


_compiled: dict[tuple[int, str], _Compiled] = {}


def _compile(rulebook: Rulebook, thresholds: Thresholds, fingerprint: str) -> _Compiled:
    key = (id(rulebook), fingerprint)
    if key not in _compiled:
        definition = rulebook.definition(thresholds)
        ruleset = durable_adapter.compiled_ruleset(f"{id(rulebook):x}-{fingerprint}", lambda: definition)
        _compiled[key] = _Compiled(ruleset, rulebook.aliases(definition), rulebook.ledger_fields(definition))
    return _compiled[key]


@dataclass(frozen=True)
class Outcome:
    """What one evaluation produced: the findings, and every fact the rules derived."""

    findings: list[Finding]
    derived: list[DerivedFact]


def evaluate(rulebook: Rulebook, thresholds: Thresholds, fingerprint: str, facts: FactSet) -> Outcome:
    """All findings and derived facts for one set of facts, deterministically ordered."""
    compiled = _compile(rulebook, thresholds, fingerprint)
    evaluation = _Evaluation(rulebook, compiled, facts)
    with compiled.ruleset.session() as session:
        session.run([dict(fact) for fact in facts.facts], evaluation.on_match)
        session.run([evaluation.ledger()], evaluation.on_match)
    derived = sorted(
        (DerivedFact(name=r.name, subject=r.subject, params=r.params, evidence=sorted(r.evidence)) for r in evaluation.derived.values()),
        key=lambda d: (d.name, d.subject),
    )
    return Outcome(sorted(evaluation.findings, key=lambda f: f.sort_key), derived)
