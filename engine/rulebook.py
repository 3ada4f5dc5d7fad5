"""Rule specifications and the registry that checks and compiles them.

Two kinds of rule exist, each one file under `rules/`:

- a Derivation asserts a derived fact (`coach`, `insider`, ...) that other
  rules consume (forward chaining);
- a FindingRule produces a finding: a next-best action or a risk warning,
  with a stable code that is never reused.

Absence is never judged with durable-rules' `none()` (its result depends on
fact order). Instead, once every base fact and every derivation that does not
read the ledger has run, the engine asserts one `ledger` fact that counts each
such derivation explicitly (`coach: 0`), and rules judge those numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from enum import StrEnum
from typing import Any

from .phases import Phase, Topic
from .playbook import Thresholds

LEDGER = "ledger"
BASE_FACTS = ("deal", "contact", "decision", "milestone", "gate", "budget", "objective", "pressure", "receivable", "competitor")


class Kind(StrEnum):
    """What a finding asks of the reader."""

    RISK = "risk"
    ACTION = "action"


class Severity(StrEnum):
    """How hard a finding stops the deal; `block` fails a stage gate."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


ALL_PHASES: frozenset[Phase] = frozenset(Phase)
PRE_SALE: frozenset[Phase] = frozenset(Phase) - {Phase.AFTER_CONTRACT}
EARLY: frozenset[Phase] = frozenset({Phase.QUALIFY, Phase.ENTRY, Phase.PROPOSAL})


class Subject(StrEnum):
    """What a finding is about: the whole deal, one contact, one milestone or one receivable."""

    DEAL = "deal"
    CONTACT = "contact"
    MILESTONE = "milestone"
    RECEIVABLE = "receivable"


class Mark(StrEnum):
    """What a finding means to the roll-up, the gate and the report header."""

    UNMET_MILESTONE = "unmet_milestone"  # the gate's target lies beyond this unreached milestone
    NEXT_MILESTONE = "next_milestone"  # the milestone to win next (the review's purpose)
    STALLED = "stalled"  # in the stage longer than the model allows
    AHEAD_OF_CUSTOMER = "ahead_of_customer"  # our stage ahead of the customer's buying step
    BELOW_FUNNEL = "below_funnel"  # too small for the funnel and the forecast


# Who can answer an information gap (brief): buying roles, supporter kinds and derived supporters.
ASKABLE = frozenset(
    {"decision_maker", "technical_gatekeeper", "purchaser", "user", "opinion_leader", "procurement_organiser",
     "insider", "sponsor", "coach"}
)


@dataclass(slots=True)
class Emit:
    """What an action returns: the subject (e.g. a contact id) and template parameters. (Not frozen: an action makes
    dozens per deal, and a frozen dataclass takes three times as long to make.)"""

    subject: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


Match = Mapping[str, dict]
"""The facts one rule activation matched, by alias (`match["contact"]`): what an action reads."""


def _no_params(match: Match) -> Emit:
    return Emit()


@dataclass(frozen=True)
class Derivation:
    """A rule that asserts a derived fact named `name` about a subject.

    Several derivations may assert the same fact type under different
    `variant`s (e.g. the four grades); at most one of them may fire per subject.
    """

    name: str
    section: str
    summary: str
    when: Callable[[Thresholds], Any]
    then: Callable[[Match], Emit] = _no_params
    variant: str | None = None
    origin: str = "shipped"  # or "company": a count a company rule needs (engine.company_rules)

    @property
    def key(self) -> str:
        return f"derive.{self.name}" + (f".{self.variant}" if self.variant else "")


@dataclass(frozen=True)
class FindingRule:
    """A rule that produces a finding (see README "Rules").

    Its traits are read by the engine instead of rule codes:
    `subject` what the finding is about (contact findings make one card per person);
    `phases` where its advice is right (not shown elsewhere);
    `yields_to` codes that, when shown on the same deal (about the same person, when
    both rules are about contacts), say the same or the opposite more urgently: this
    finding is then not shown;
    `topics` for ranking; `asks` who can answer this information gap, in order (brief);
    `mark` its meaning to roll-up, gate and header;
    `clears_fields` the record fields whose change clears it (JSON only, never prose);
    `stages` the stage ids where it is shown (None: every stage its phases allow).
    A company playbook may add rules (`origin` "company", `doc` their documentation) and tune shipped
    ones (`tuned` lists (trait, shipped value) for each trait it changed).
    `when` returns one durable-rules rule, or a list of alternatives (compiled as `CODE~1`, `CODE~2`...).
    """

    code: str
    symbol: str
    kind: Kind
    severity: Severity
    section: str
    summary: str
    rationale: str
    when: Callable[[Thresholds], Any]
    then: Callable[[Match], Emit] = _no_params
    gate_only: bool = False
    subject: Subject = Subject.DEAL
    phases: frozenset[Phase] = ALL_PHASES
    yields_to: tuple[str, ...] = ()
    topics: frozenset[Topic] = frozenset()
    asks: tuple[str, ...] = ()
    mark: Mark | None = None
    clears_fields: tuple[str, ...] = ()
    stages: frozenset[str] | None = None
    origin: str = "shipped"
    tuned: tuple[tuple[str, str], ...] = ()
    doc: str = ""
    checks: tuple = ()  # a company rule's tests as written (engine.condition_language.Check), for coverage
    place: str = ""  # the code it sorts as among equals: a replacing company rule takes the replaced rule's place
    params: tuple[str, ...] = ()  # the template parameters a company rule gives (checked against its templates)

    @property
    def order(self) -> str:
        """What breaks ties between findings of equal weight: the code, or the code whose place the rule took."""
        return self.place or self.code

    @cached_property
    def standing(self) -> tuple[int, int, str]:
        """Its findings' order among equals, before their subject: blocking first, risks before actions, then `order`."""
        return (self.severity.rank, 0 if self.kind == Kind.RISK else 1, self.order)

    @property
    def key(self) -> str:
        return self.code

    def looks_at(self, phase: str, stage_id: str) -> bool:
        """Whether the rule looks at a deal in this phase and stage: a finding gone after a move to where its rule
        does not look was left behind, not cleared (history, changes, outcomes)."""
        return looks_at(self.phases, self.stages, phase, stage_id)


def looks_at(phases: frozenset[str] | None, stages: frozenset[str] | None, phase: str, stage_id: str) -> bool:
    """A rule with these phases and stages looks at a deal in `phase` and `stage_id` (an unknown phase passes)."""
    if phases is not None and phase and phase not in phases:
        return False
    return stages is None or stage_id in stages


Rule = Derivation | FindingRule

_CODE = re.compile(r"^DC\d{3}$")
COMPANY_CODE = re.compile(r"[A-Z][A-Z0-9]{1,7}[0-9]{3}")  # a company's own prefix (fullmatch); DC is ours
BRANCH = "~"  # durable rule name of one alternative of a rule: CODE~2


def rule_key(durable_name: str) -> str:
    """The rule key behind a durable-rules rule name (an alternative's name carries ~n)."""
    return durable_name.partition(BRANCH)[0]
_SYMBOL = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SECTION = re.compile(r"^M\d+(\.\d+)?$")


def referenced_fields(condition: Any) -> set[str]:
    """Field names one alias's condition reads, from its durable-rules JSON definition."""
    found: set[str] = set()
    if isinstance(condition, list):
        for item in condition:
            found |= referenced_fields(item)
    elif isinstance(condition, dict):
        for key, value in condition.items():
            if key in ("$ex", "$nex", "$iany", "$iall"):
                found |= set(value)
            elif key.startswith("$"):
                found |= referenced_fields(value)
            else:
                found.add(key)
    return found


def joined_fields(condition: Any) -> set[tuple[str, str]]:
    """(alias, field) pairs a condition reads from *other* aliases (`m.x < c.deal.stage_index`)."""
    found: set[tuple[str, str]] = set()
    if isinstance(condition, list):
        for item in condition:
            found |= joined_fields(item)
    elif isinstance(condition, dict):
        for key, value in condition.items():
            if key.startswith("$"):
                found |= joined_fields(value)
            elif isinstance(value, dict) and len(value) == 1:
                (alias, field), = value.items()
                if isinstance(field, str) and not alias.startswith("$"):
                    found.add((alias, field))
    return found


@dataclass(frozen=True)
class AliasInfo:
    """What a rule reads through one alias: the fact type and the fields."""

    fact_type: str
    fields: tuple[str, ...]


class Rulebook:
    """The checked set of rules, compiled to a durable-rules definition per threshold set."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules: dict[str, Rule] = {}
        for rule in rules:
            self._check(rule)
            self.rules[rule.key] = rule
        self.findings = {r.code: r for r in self.rules.values() if isinstance(r, FindingRule)}
        self.derivations: dict[str, list[Derivation]] = {}
        for rule in self.rules.values():
            if isinstance(rule, Derivation):
                self.derivations.setdefault(rule.name, []).append(rule)
        symbols = [r.symbol for r in self.findings.values()]
        repeated = {s for s in symbols if symbols.count(s) > 1}
        if repeated:
            raise ValueError(f"finding symbols must be unique: {sorted(repeated)}")
        clashes = set(self.derivations) & {*BASE_FACTS, LEDGER}
        if clashes:
            raise ValueError(f"derivation names clash with fact types: {sorted(clashes)}")
        for rule in self.findings.values():
            unknown = set(rule.yields_to) - set(self.findings)
            if unknown or rule.code in rule.yields_to:
                raise ValueError(f"rule {rule.code} yields to unknown or to itself: {sorted(unknown or {rule.code})}")
            if set(rule.asks) - ASKABLE:
                raise ValueError(f"rule {rule.code} asks {sorted(set(rule.asks) - ASKABLE)}; allowed: {sorted(ASKABLE)}")
            if not rule.phases:
                raise ValueError(f"rule {rule.code} applies to no phase")
        self._check_yield_cycles()

    def _check_yield_cycles(self) -> None:
        """A yields to B yields to A would hide both: refuse it."""
        def reach(code: str, seen: tuple[str, ...]) -> None:
            for target in self.findings[code].yields_to:
                if target in seen:
                    raise ValueError(f"rules yield to each other in a circle: {' -> '.join((*seen, target))}")
                reach(target, (*seen, target))
        for code in self.findings:
            reach(code, (code,))

    def find(self, code_or_symbol: str) -> FindingRule | None:
        """A finding rule by its code (any case) or, failing that, its symbol."""
        by_code = self.findings.get(code_or_symbol.upper())
        return by_code or next((r for r in self.findings.values() if r.symbol == code_or_symbol.lower()), None)

    def standing(self, finding) -> tuple:
        """How findings of equal score are ordered: blocking first, risks before actions, then by the rule's code (or
        the code whose place a replacing rule took) and subject — the same order whatever the facts' order."""
        return (*self.findings[finding.code].standing, finding.subject or "")

    def marked(self, mark: Mark) -> frozenset[str]:
        """Codes of the finding rules that carry `mark`."""
        return frozenset(code for code, rule in self.findings.items() if rule.mark == mark)

    def _check(self, rule: Rule) -> None:
        if rule.key in self.rules:
            raise ValueError(f"rule {rule.key} is defined twice")
        company = rule.origin == "company"
        if not _SECTION.match(rule.section) and not (company and not rule.section):
            raise ValueError(f"rule {rule.key}: section {rule.section!r} is not like M4.3")
        if isinstance(rule, FindingRule):
            code_ok = (COMPANY_CODE.fullmatch(rule.code) and not rule.code.startswith("DC")) if company else _CODE.match(rule.code)
            if not code_ok or not _SYMBOL.match(rule.symbol):
                raise ValueError(f"rule {rule.code}/{rule.symbol}: code must be {'a company prefix and three digits, not DC' if company else 'DCnnn'}"
                                 " and symbol kebab-case")

    def definition(self, thresholds: Thresholds) -> dict[str, dict]:
        """The durable-rules ruleset definition (fresh DSL objects every call: `<<` mutates them)."""
        definition: dict[str, dict] = {}
        for key, rule in self.rules.items():
            made = rule.when(thresholds)
            if isinstance(made, list):
                definition.update({f"{key}{BRANCH}{number}": branch.define() for number, branch in enumerate(made, 1)})
            else:
                definition[key] = made.define()
        return definition

    @staticmethod
    def aliases(definition: dict[str, dict]) -> dict[str, dict[str, AliasInfo]]:
        """Per rule key, per alias: the fact type matched and the fields read."""
        table: dict[str, dict[str, AliasInfo]] = {}
        for key, rule_definition in definition.items():
            table[key] = {}
            for condition in rule_definition.get("all", []):
                for alias, body in condition.items():
                    fields = referenced_fields(body)
                    fact_type = _fact_type(body)
                    table[key][alias] = AliasInfo(fact_type, tuple(sorted(fields - {"t"})))
        return table

    @classmethod
    def fields_read(cls, definition: dict[str, dict]) -> dict[str, frozenset[str]]:
        """Per fact type, the top-level fields any rule reads: the rest never needs to reach the engine."""
        read: dict[str, set[str]] = {}
        for key, by_alias in cls.aliases(definition).items():
            for info in by_alias.values():
                read.setdefault(info.fact_type, set()).update(field.split(".")[0] for field in info.fields)
            for condition in definition[key].get("all", []):
                for body in condition.values():
                    for alias, name in joined_fields(body):
                        read.setdefault(by_alias[alias].fact_type, set()).add(name.split(".")[0])
        return {fact_type: frozenset(fields | {"t", "id"}) for fact_type, fields in read.items()}

    def ledger_fields(self, definition: dict[str, dict]) -> tuple[str, ...]:
        """Derivations counted in the ledger: those that do not read the ledger themselves."""
        aliases = self.aliases(definition)
        counted = tuple(
            sorted(
                name for name, rules in self.derivations.items()
                if all(
                    info.fact_type != LEDGER
                    for rule in rules for durable_name, by_alias in aliases.items() if rule_key(durable_name) == rule.key
                    for info in by_alias.values()
                )
            )
        )
        for key, by_alias in aliases.items():
            for info in by_alias.values():
                if info.fact_type == LEDGER:
                    unknown = set(info.fields) - set(counted)
                    if unknown:
                        raise ValueError(f"rule {key} reads ledger fields that are not counted: {sorted(unknown)}")
        return counted


def _fact_type(condition: dict) -> str:
    """The `t` a condition requires (every rule condition starts with `m.t == ...`)."""
    if "t" in condition:
        return condition["t"]
    for part in condition.get("$and", []):
        if isinstance(part, dict) and "t" in part:
            return part["t"]
    raise ValueError(f"every rule condition must test the fact type first (m.t == ...): {condition}")
