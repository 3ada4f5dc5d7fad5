"""A company playbook's own rules and its changes to ours, turned into the rulebook its reviews use.

In `playbook.yaml` (README "Company rules"):

    rules:                       # the shipped rules by code, switched off or tuned
      <code>: {severity: block}  # a warning that now stops the gate
      <code>: {enabled: false}
      <code>: {stages: [proposal, bid]}
    company_rules:               # rules of its own, written in engine.condition_language
      - code: ACME101
        symbol: discount-without-named-rival
        kind: risk
        severity: warn
        summary: The customer asks for a discount and we cannot name the rival behind it.
        rationale: ...
        when: {all: [{price_pressure.concession_requested: true}, {competitors: 0}]}

A company rule becomes a FindingRule like ours (plus a Derivation per `count:`), so review, gate,
pipeline, brief and the service treat both alike. Its texts are templates in the company playbook,
`templates/findings/<lang>/<CODE>.j2`, with the blocks our templates have.
"""

from __future__ import annotations

import dataclasses
import difflib

import yaml
from jinja2.defaults import DEFAULT_NAMESPACE
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from .condition_language import ConditionError, Count, Names, Parser, Test, aliases_of, alternatives, durable_rules
from .errors import PlaybookError
from .rendering import FINDING_CONTEXT
from .phases import Phase, Topic
from .playbook import validation_problem
from .durable_adapter import capacity_problems
from .rulebook import ASKABLE, COMPANY_CODE, Derivation, Emit, FindingRule, Kind, Match, Rulebook, Severity, Subject, rule_key

MAX_COMPANY_RULES = 200
MAX_LEDGER_FIELDS = 200  # the engine holds at most ~253 properties per fact; every count is one in the ledger
Locate = Callable[[tuple], str]  # a path in playbook.yaml -> "file, line N"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


StageName = Annotated[str, Field(min_length=1, max_length=200)]  # an id, or a Chinese or English name


class RuleChange(_Strict):
    """A change to a shipped rule: switch it off, change its severity, or show it only in some stages."""

    enabled: StrictBool = True
    severity: Severity | None = None
    yields_to: list[str] = Field(default_factory=list, max_length=50)  # codes it is not shown beside, besides its own
    stages: list[StageName] | None = Field(None, min_length=1, max_length=200)


class CompanyRule(_Strict):
    """A company's own rule, as written in its playbook."""

    code: str = Field(description="a company prefix of 2 to 8 letters or digits and three digits, e.g. ACME101 (not DC)")
    symbol: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=60, description="kebab-case, unique")
    kind: Kind
    severity: Severity
    summary: str = Field(min_length=1, max_length=300)
    section: str | None = Field(None, pattern=r"^M\d+(\.\d+)?$", description="the METHODOLOGY section it encodes, e.g. M4.3")
    rationale: str | None = Field(None, min_length=1, max_length=2000)
    subject: Literal["deal", "contact"] = "deal"
    phases: list[Phase] | None = Field(None, min_length=1)
    stages: list[StageName] | None = Field(None, min_length=1, max_length=200)
    topics: list[Topic] = Field(default_factory=list)
    asks: list[Literal[tuple(sorted(ASKABLE))]] = Field(default_factory=list, max_length=10)  # type: ignore[valid-type]
    yields_to: list[str] = Field(default_factory=list, max_length=50)
    replaces: str | None = Field(None, description="the code of a shipped rule this one takes the place of")
    when: Any

    @model_validator(mode="after")
    def _identity(self) -> CompanyRule:
        if not COMPANY_CODE.fullmatch(self.code) or self.code.startswith("DC"):
            raise ValueError(f"code {self.code!r}: a company prefix of 2 to 8 capital letters or digits and three digits, "
                             "e.g. ACME101; DC codes are the shipped rules'")
        if not self.section and not self.rationale:
            raise ValueError("give a section (the METHODOLOGY section it encodes) or a rationale (why the company checks it)")
        if self.when is None:
            raise ValueError("when: is required: the condition under which the rule fires")
        return self


@dataclasses.dataclass(frozen=True)
class RuleSettings:
    """The rule parts of a company playbook: changes to shipped rules and the company's rules, with where each is written."""

    changes: dict[str, tuple[RuleChange, tuple]]  # code -> (change, path in playbook.yaml)
    company: list[tuple[CompanyRule, tuple]]
    locate: Locate

    @property
    def empty(self) -> bool:
        return not self.changes and not self.company


def read_settings(data: dict, locate: Locate) -> RuleSettings:
    """The `rules:` and `company_rules:` of a playbook.yaml, validated; PlaybookError naming file, line and field."""
    changes: dict[str, tuple[RuleChange, tuple]] = {}
    raw_changes = data.get("rules") or {}
    if not isinstance(raw_changes, dict):
        raise PlaybookError(f"{locate(('rules',))}: rules: maps shipped rule codes to changes, e.g. <code>: {{severity: block}}")
    for code, raw in raw_changes.items():
        path = ("rules", code)
        changes[str(code)] = (_model(RuleChange, raw, path, locate, f"the change to {code}"), path)
    raw_rules = data.get("company_rules") or []
    if not isinstance(raw_rules, list):
        raise PlaybookError(f"{locate(('company_rules',))}: company_rules: is a list of rules")
    if len(raw_rules) > MAX_COMPANY_RULES:
        raise PlaybookError(f"{locate(('company_rules',))}: {len(raw_rules)} company rules; at most {MAX_COMPANY_RULES}")
    company = []
    for index, raw in enumerate(raw_rules):
        path = ("company_rules", index)
        name = raw.get("code") if isinstance(raw, dict) else None
        company.append((_model(CompanyRule, raw, path, locate, f"company rule {name or index + 1}"), path))
    return RuleSettings(changes, company, locate)


def _model(model: type[BaseModel], raw: object, path: tuple, locate: Locate, what: str):
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        issue = error.errors()[0]
        raise PlaybookError(f"{locate((*path, *issue['loc']))}: {what}: {validation_problem(model, issue)}") from None


def build_rulebook(shipped: Rulebook, settings: RuleSettings, stages: Names, steps: Names) -> Rulebook:
    """The shipped rules as the playbook changed them, plus the company's rules and the counts they need."""
    locate = settings.locate
    changes = _changes_by_code(shipped, settings)
    replaced: dict[str, str] = {}  # shipped code -> the company rule that takes its place
    for spec, path in settings.company:
        if spec.replaces is None:
            continue
        where = locate((*path, "replaces"))
        if spec.replaces not in shipped.findings:
            raise PlaybookError(f"{where}: {spec.code} replaces {spec.replaces!r}, which is not a shipped rule code")
        if spec.replaces in replaced:
            raise PlaybookError(f"{where}: {spec.replaces} is replaced twice, by {replaced[spec.replaces]} and {spec.code}")
        if spec.replaces in changes:
            raise PlaybookError(f"{where}: {spec.code} replaces {spec.replaces}, which rules: also changes; keep one of the two")
        replaced[spec.replaces] = spec.code
    disabled = {code for code, (change, _) in changes.items() if not change.enabled} | set(replaced)
    codes = set(shipped.findings) - disabled
    symbols = {rule.symbol: rule.code for rule in shipped.findings.values() if rule.code not in disabled}  # a replacement may keep its
    for spec, path in settings.company:
        if spec.code in codes:
            raise PlaybookError(f"{locate((*path, 'code'))}: company rule code {spec.code} is used twice")
        if spec.code in disabled or spec.code in shipped.findings:
            raise PlaybookError(f"{locate((*path, 'code'))}: {spec.code} is a shipped rule code")
        if spec.symbol in symbols:
            raise PlaybookError(f"{locate((*path, 'symbol'))}: symbol {spec.symbol!r} is already {symbols[spec.symbol]}'s")
        if spec.symbol.upper() in {*shipped.findings, *(other.code for other, _ in settings.company)}:
            raise PlaybookError(f"{locate((*path, 'symbol'))}: symbol {spec.symbol!r} reads as the code {spec.symbol.upper()}; "
                                "give it a name of its own")
        codes.add(spec.code)
        symbols[spec.symbol] = spec.code
    owners = [(code, change.yields_to, path) for code, (change, path) in changes.items()]
    owners += [(spec.code, spec.yields_to, path) for spec, path in settings.company]
    for owner, targets, path in owners:
        for number, target in enumerate(targets):
            if target not in codes or target == owner:
                why = ("itself" if target == owner else f"replaced by {replaced[target]}: yield to that" if target in replaced
                       else "a rule the playbook switched off" if target in disabled else "not a rule code")
                raise PlaybookError(f"{locate((*path, 'yields_to', number))}: {owner} yields to {target!r}: {why}")
    rules: list = []
    for rule in shipped.rules.values():
        if isinstance(rule, FindingRule):
            if rule.code in disabled:
                continue
            change, path = changes.get(rule.code, (RuleChange(), ()))
            scope = _stage_ids(change.stages, stages, (*path, "stages"), locate)
            rule = _tuned(rule, change, scope, disabled, replaced)
        rules.append(rule)
    for spec, path in settings.company:
        scope = _stage_ids(spec.stages, stages, (*path, "stages"), locate)
        rules.extend(_compile(spec, path, locate, stages, steps, scope))
    counted = sum(1 for rule in rules if isinstance(rule, Derivation))
    if counted > MAX_LEDGER_FIELDS:
        raise PlaybookError(f"{locate(('company_rules',))}: the company rules count {counted} things in all; at most "
                            f"{MAX_LEDGER_FIELDS} (the engine's limit on one fact), counting shipped derivations")
    try:
        return Rulebook(rules)
    except ValueError as error:  # a circle of yields_to, found only once every rule is in: name where a part is written
        cause = next((path for spec, path in settings.company if spec.code in str(error) and spec.yields_to), None)
        where = locate((*cause, "yields_to")) if cause else locate(("company_rules",))
        raise PlaybookError(f"{where}: {error}") from None


def check_capacity(rulebook: Rulebook, thresholds, settings: RuleSettings) -> None:
    """PlaybookError naming the first company rule with which the rules no longer fit the engine's fixed sizes
    (engine.durable_adapter.capacity_problems): past them it would hang or fail on a deal, not at load."""
    definition = rulebook.definition(thresholds)
    problems = capacity_problems(definition)
    if not problems:
        return
    owner: dict[str, str] = {}  # durable rule name -> the company rule it belongs to
    for name in definition:
        rule = rulebook.rules[rule_key(name)]
        if rule.origin == "company":
            owner[name] = rule.code if isinstance(rule, FindingRule) else rule.name.split("_count")[0].upper()
    part = {name: body for name, body in definition.items() if name not in owner}
    for spec, path in settings.company:
        part.update({name: body for name, body in definition.items() if owner.get(name) == spec.code})
        found = capacity_problems(part)
        if found:
            raise PlaybookError(f"{settings.locate(path)}: company rule {spec.code}: with it, the rules no longer fit the rule "
                                f"engine: {found[0]}. {CAPACITY_ADVICE}")
    raise PlaybookError(f"{settings.locate(('company_rules',))}: the rules do not fit the rule engine: {problems[0]}. {CAPACITY_ADVICE}")


CAPACITY_ADVICE = ("Fewer rules testing the same record in different ways, fewer values in in:/not_in: and alternatives in "
                   "any:, or rules that begin with the same test (the engine shares it) bring them within its limits")


def _changes_by_code(shipped: Rulebook, settings: RuleSettings) -> dict[str, tuple[RuleChange, tuple]]:
    """`rules:` keyed by shipped code, whether written as a code (any case) or a symbol."""
    changes: dict[str, tuple[RuleChange, tuple]] = {}
    for key, (change, path) in settings.changes.items():
        found = shipped.find(key)
        if found is None:
            close = difflib.get_close_matches(key.upper(), sorted(shipped.findings), n=1) or difflib.get_close_matches(
                key.lower(), sorted(r.symbol for r in shipped.findings.values()), n=1)
            hint = f"; did you mean {close[0]}?" if close else " (dealcoach rules lists them)"
            raise PlaybookError(f"{settings.locate(path)}: rules: {key!r} is not a shipped rule's code or symbol{hint}")
        code = found.code
        if code in changes:
            raise PlaybookError(f"{settings.locate(path)}: rules: {key!r} is {code}, which is already changed above; change it once")
        changes[code] = (change, path)
    return changes


def _stage_ids(given: list[str] | None, stages: Names, path: tuple, locate: Locate) -> frozenset[str] | None:
    """The stage ids a `stages:` list names (ids or names); PlaybookError naming one that is no stage."""
    if given is None:
        return None
    found = set()
    for number, spelling in enumerate(given):
        stage = stages.find(spelling)
        if stage is None:
            raise PlaybookError(f"{locate((*path, number))}: {stages.unknown(spelling)}")
        found.add(stage)
    return frozenset(found)


def _tuned(
    rule: FindingRule, change: RuleChange, scope: frozenset[str] | None, disabled: set[str], replaced: dict[str, str]
) -> FindingRule:
    """A shipped rule with the playbook's changes, each remembered with the shipped value (`dealcoach rules`)."""
    updates: dict[str, Any] = {}
    tuned: list[tuple[str, str]] = []
    if change.severity is not None and change.severity != rule.severity:
        updates["severity"] = change.severity
        tuned.append(("severity", rule.severity.value))
    if scope is not None:
        updates["stages"] = scope
        tuned.append(("stages", "all"))
    yields_to = tuple(replaced.get(code, code) for code in rule.yields_to if code not in disabled or code in replaced)
    if change.yields_to:
        yields_to = tuple(dict.fromkeys((*yields_to, *change.yields_to)))
        tuned.append(("yields_to", ", ".join(rule.yields_to) or "none"))
    if yields_to != rule.yields_to:  # to a rule switched off: nothing to yield to; to a replaced one: its replacement
        updates["yields_to"] = yields_to
    return dataclasses.replace(rule, **updates, tuned=tuple(tuned)) if updates else rule


def _compile(spec: CompanyRule, path: tuple, locate: Locate, stages: Names, steps: Names, scope: frozenset[str] | None) -> list:
    """The FindingRule of one company rule, and a Derivation for each of its counts."""
    contact = spec.subject == "contact"
    parser = Parser(stages, steps, count_prefix=spec.code.lower(), contact_subject=contact)
    try:
        parsed = parser.condition(spec.when)
        conjunctions = alternatives(parsed.tree)
        counts = [(count, alternatives(count.where)) for count in parsed.counts]
    except ConditionError as error:
        where = (*path, *error.path) if error.path[:1] == ("when",) else (*path, "when")
        raise PlaybookError(f"{locate(where)}: company rule {spec.code}: {error}") from None
    named: dict[str, tuple] = {}
    for count in parsed.counts:
        if count.param is None:
            continue
        clash = "another count" if count.param in named else (
            "the person's" if contact and count.param in CONTACT_PARAMS else "a name every template has"
            if count.param in TEMPLATE_NAMES else None)
        if clash:
            raise PlaybookError(f"{locate((*path, *count.path, 'as'))}: company rule {spec.code}: as: {count.param} is already "
                                f"{clash}; give the count a name of its own")
        named[count.param] = count.path
    if conjunctions == [()] and not parsed.counts:
        raise PlaybookError(f"{locate((*path, 'when'))}: company rule {spec.code}: the condition tests nothing")
    always = () if parsed.reads_active or not contact else (Test("contact", "active", "eq", True),)
    required = (*(("contact",) if contact else ()), *(("ledger",) if any(count.param for count in parsed.counts) else ()))
    derivations = [
        Derivation(
            name=count.name,
            section=spec.section or "",
            summary=f"{spec.code}: {count.label}",
            when=lambda thresholds, where=where, fact=count.of: durable_rules(where, (fact,)),
            origin="company",
        )
        for count, where in counts
    ]
    gate = "gate" in aliases_of(conjunctions)
    finding = FindingRule(
        code=spec.code,
        symbol=spec.symbol,
        kind=spec.kind,
        severity=spec.severity,
        section=spec.section or "",
        summary=spec.summary,
        rationale=spec.rationale or spec.summary,
        when=lambda thresholds: durable_rules(conjunctions, required, always),
        then=_then(contact, parsed.counts),
        gate_only=gate,
        subject=Subject.CONTACT if contact else Subject.DEAL,
        phases=frozenset(spec.phases) if spec.phases else frozenset(Phase),
        yields_to=tuple(spec.yields_to),
        topics=frozenset(spec.topics),
        asks=tuple(spec.asks),
        clears_fields=tuple(sorted(parsed.record_fields)),
        stages=scope,
        origin="company",
        doc=_doc(spec),
        checks=tuple(parsed.checks),
        place=spec.replaces or "",
        params=(*(CONTACT_PARAMS if contact else ()), *(count.param for count in parsed.counts if count.param)),
    )
    return [*derivations, finding]


CONTACT_PARAMS = ("name", "title", "roles", "power", "stance", "supporter", "met", "days_since_contact")
# what a template always has besides its rule's parameters: the finding context and jinja's own names
TEMPLATE_NAMES = frozenset({*FINDING_CONTEXT, *DEFAULT_NAMESPACE, "loop", "self", "super", "caller", "varargs", "kwargs"})


def _then(contact: bool, counts: list[Count]) -> Callable[[Match], Emit]:
    """Template parameters: each count named with `as:`; for a contact rule, the person: name, title, roles, power,
    stance, supporter, met and days_since_contact (None when never recorded)."""
    named = [(count.param, count.name) for count in counts if count.param]

    def then(match: Match) -> Emit:
        params: dict[str, Any] = {param: match["ledger"][name] for param, name in named}
        if contact:
            fact = match["contact"]
            params.update(
                name=fact["name"], title=fact["title"], roles=list(fact["roles"]), power=fact["power"], stance=fact["stance"],
                supporter=list(fact["supporter"]), met=fact["met"],
                days_since_contact=fact["days_since_contact"] if fact["has_last_contact"] else None,
            )
            return Emit(subject=fact["cid"], params=params)
        return Emit(params=params)

    return then


def _doc(spec: CompanyRule) -> str:
    """What `dealcoach rules CODE` prints: the summary, why, and the condition as written."""
    lines = [f"{spec.code} {spec.symbol} — {spec.summary}", ""]
    if spec.rationale:
        lines += [f"Why: {spec.rationale}", ""]
    lines.append("When: " + yaml.safe_dump(spec.when, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**6).strip())
    return "\n".join(lines)


def count_names(rulebook: Rulebook) -> dict[str, str]:
    """Ledger name -> how the count reads in a reasoning chain, for the company's counts."""
    return {name: rules[0].summary for name, rules in rulebook.derivations.items() if rules[0].origin == "company"}


__all__ = ["CompanyRule", "RuleChange", "RuleSettings", "build_rulebook", "count_names", "read_settings"]
