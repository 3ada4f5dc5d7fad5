"""Scenario tests for a playbook: deals with the findings that must and must not be shown, and gate outcomes.

A scenario file (README "Testing a playbook"):

    base: ../../grid-monitoring-soe.zh.yaml    # the deal the scenarios start from (relative to this file)
    scenarios:
      - name: 核心圈没人支持，投标前拦下
        change:                                 # a what-if change over the base (contacts merge by id)
          contacts: [{id: xu, stance: neutral}]
        expect:
          shown: [HX101]                        # a code, or {code: HX103, about: guo} for a person
          not_shown: [HX102]
          gate: {to: negotiation, allowed: false, blocked_by: [HX101]}

Each scenario is reviewed (and gated) with the playbook's coach and rendered in both languages, so a broken
template fails the scenario that shows it. Coverage says which rules no scenario fired and, for the company
rules, how often each written test was true — asked of the engine through probe rules, never in Python.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from .coach import Coach
from .condition_language import ALIAS_ORDER, durable_rules, alternatives, written_path
from .errors import DealcoachError, DealInputError
from .evaluation import evaluate
from .facts import build_facts, locate
from .loading import MAX_BYTES, decode, open_for_reading, parse_text
from .playbook import LANGUAGES
from .report import GateResult, Report
from .rulebook import Derivation, FindingRule, Rulebook, Subject
from .whatif import merge_patch
from .yaml_limits import key_lines, line_of

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
PROBES_PER_RULEBOOK = 60  # probes are counted in the engine's ledger fact, which holds ~250 properties at most


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioError(DealcoachError):
    """A scenario that cannot be run as written (an expectation naming no rule of the playbook...)."""


class Expected(_Strict):
    """One finding a scenario expects: its code (or symbol), and for a finding about a person, the contact id."""

    code: str = Field(min_length=1, max_length=100)
    about: str | None = Field(None, min_length=1, max_length=200)

    def __str__(self) -> str:
        return f"{self.code} about {self.about}" if self.about else self.code

    def found_in(self, items: Iterable) -> object | None:
        """The first finding (or set-aside finding) in `items` that is this one: its code, and its person if named."""
        return next((i for i in items if i.code == self.code and (self.about is None or i.subject == self.about)), None)


def _expected_list(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [{"code": item} if isinstance(item, str) else item for item in value]
    return value


class GateExpectation(_Strict):
    """A gate a scenario asks for: the stage, whether the deal may advance, and the codes that must block it."""

    to: str = Field(min_length=1, max_length=200)
    allowed: StrictBool
    blocked_by: list[Expected] = Field(default_factory=list, max_length=200)

    _list = field_validator("blocked_by", mode="before")(_expected_list)


class Expectation(_Strict):
    shown: list[Expected] = Field(default_factory=list, max_length=200)
    not_shown: list[Expected] = Field(default_factory=list, max_length=200)
    gate: GateExpectation | None = None

    _lists = field_validator("shown", "not_shown", mode="before")(_expected_list)


class ScenarioSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    deal: str | dict | None = None  # a deal file relative to the scenario file, or the deal itself
    change: dict = Field(default_factory=dict)
    expect: Expectation


class ScenarioFile(_Strict):
    base: str | dict | None = None
    scenarios: list[ScenarioSpec] = Field(min_length=1, max_length=1000)


@dataclass
class Result:
    """How one scenario went: passed, failed (what was not as expected) or errored (it could not be run)."""

    file: str
    name: str
    line: int | None = None
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    fired: set[str] = field(default_factory=set)  # codes that fired, shown or set aside
    shown: set[str] = field(default_factory=set)
    probes: set[str] = field(default_factory=set)  # probe names that held

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    @property
    def outcome(self) -> str:
        return "error" if self.error is not None else ("fail" if self.failures else "pass")


def scenario_files(playbook_dir: Path, given: Iterable[Path]) -> list[Path]:
    """The files given, or every *.yaml / *.yml under the playbook's `scenarios/` folder, sorted."""
    paths = list(given)
    if paths:
        found: list[Path] = []
        for path in paths:
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path])
        return found
    folder = playbook_dir / "scenarios"
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()) if folder.is_dir() else []


class Runner:
    """Runs scenario files against one coach (one playbook) and gathers what coverage needs."""

    def __init__(self, coach: Coach):
        self.coach = coach
        self.probes = Probes(coach.rulebook)
        self.read: set[Path] = set()  # every file a scenario read: what an output file must not replace

    def run_file(self, path: Path, selected: str | None = None) -> list[Result]:
        """Every scenario of one file (those whose name holds `selected`, when given)."""
        label = str(path)
        lines: dict[tuple, int] = {}
        self.read.add(path.resolve())
        try:
            with open_for_reading(path) as file:
                raw = file.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise DealcoachError(f"{label}: more than {MAX_BYTES:,} bytes, the most a scenario file may hold")
            text = decode(raw, label)
            data = parse_text(text, label)
            lines = key_lines(text)
            spec = ScenarioFile.model_validate(data)
        except ValidationError as error:
            issue = error.errors()[0]
            where = written_path(tuple(issue["loc"]))
            return [Result(label, "(the file)", line_of(lines, tuple(issue["loc"])),
                           error=f"{where}: {issue['msg'].removeprefix('Value error, ')}")]
        except DealInputError as error:  # read by the deal reader: its problems have no deal field to name here
            return [Result(label, "(the file)", error=f"{label}: " + "; ".join(p.message if not p.path else str(p) for p in error.problems))]
        except DealcoachError as error:
            return [Result(label, "(the file)", error=str(error))]
        except OSError as error:
            return [Result(label, "(the file)", error=f"{label}: cannot read the file: {error.strerror or error}")]
        results = []
        for index, scenario in enumerate(spec.scenarios):
            if selected and selected not in scenario.name:
                continue
            result = Result(label, scenario.name, line_of(lines, ("scenarios", index)))
            started = time.perf_counter()
            try:
                self._run(path, spec.base, scenario, result)
            except DealcoachError as error:
                result.error = str(error)
            except (OSError, ValueError) as error:  # a path the system refuses (a NUL byte in it...)
                result.error = f"cannot read the deal: {error}"
            result.seconds = time.perf_counter() - started
            results.append(result)
        return results

    def _deal(self, path: Path, base: str | dict | None, scenario: ScenarioSpec) -> tuple[dict, list[str]]:
        """The scenario's deal document, and the contact ids its change adds (a misspelt id adds a contact)."""
        source = scenario.deal if scenario.deal is not None else base
        if source is None:
            raise ScenarioError("no deal: give the file a base: or the scenario a deal:")
        if isinstance(source, str):
            self.read.add((path.parent / source).resolve())
        document = self.coach.document(path.parent / source if isinstance(source, str) else source)
        if not scenario.change:
            return document, []
        known = {c.get("id") for c in document.get("contacts") or () if isinstance(c, dict)}
        changed = scenario.change.get("contacts") if isinstance(scenario.change.get("contacts"), list) else []
        added = [c["id"] for c in changed if isinstance(c, dict) and isinstance(c.get("id"), str) and c["id"] not in known]
        return merge_patch(document, scenario.change), added

    def _expected(self, item: Expected, deal) -> Expected:
        """`item` with its rule's code (a code in any case, or a symbol, is accepted); ScenarioError when it names no
        rule of this playbook, a rule the playbook switched off (the expectation could never fail), or nobody."""
        rule = self.coach.rule(item.code)
        if rule is None:
            if item.code.upper() in self.coach.switched_off():
                raise ScenarioError(f"{item.code} is switched off by this playbook, so it is never shown and this expectation "
                                    "can never fail; leave it out (dealcoach rules lists what is switched off)")
            close = difflib.get_close_matches(item.code.upper(), [r.code for r in self.coach.rules()], n=1)
            hint = f"; did you mean {close[0]}?" if close else " (dealcoach rules --playbook lists them)"
            raise ScenarioError(f"{item.code!r} is not a rule of this playbook{hint}")
        if item.about is not None and rule.subject == Subject.DEAL:
            raise ScenarioError(f"{rule.code} is about the deal, not about someone: leave out about: {item.about}")
        if item.about is not None and rule.subject == Subject.CONTACT and item.about not in {c.id for c in deal.contacts}:
            raise ScenarioError(f"{rule.code} about {item.about!r}: the deal has no contact with that id; "
                                f"its contacts: {', '.join(c.id for c in deal.contacts) or 'none'}")
        return item.model_copy(update={"code": rule.code})

    def _resolved(self, expect: Expectation, deal) -> Expectation:
        gate = expect.gate
        if gate is not None:
            gate = gate.model_copy(update={"blocked_by": [self._expected(item, deal) for item in gate.blocked_by]})
        return expect.model_copy(update={
            "shown": [self._expected(item, deal) for item in expect.shown],
            "not_shown": [self._expected(item, deal) for item in expect.not_shown],
            "gate": gate,
        })

    def _run(self, path: Path, base: str | dict | None, scenario: ScenarioSpec, result: Result) -> None:
        document, added = self._deal(path, base, scenario)
        try:
            deal = self.coach.deal(document, label=f"{path}: {scenario.name}")
        except DealcoachError as error:
            if added:  # most often a misspelt id: the change added a contact instead of changing one
                raise ScenarioError(f"{error} (the change adds contacts {', '.join(added)}: no contact of the base deal has "
                                    "that id)") from None
            raise
        expect = self._resolved(scenario.expect, deal)
        report = self.coach.review(deal)
        reports: list[Report] = [report]
        gate: GateResult | None = None
        if expect.gate is not None:
            gate = self.coach.gate(deal, expect.gate.to)
            reports.append(gate.report)
        for language in LANGUAGES:  # a template that breaks on this deal fails the scenario, not a rep's review
            for shown in reports:
                self.coach.render(shown, lang=language, fmt="text", show_all=True)
        result.shown = {f.code for f in report.findings}
        result.fired = {f.code for r in reports for f in r.findings} | {s.code for r in reports for s in r.suppressed}
        result.probes = self.probes.held(self.coach, deal, gate_to=expect.gate.to if expect.gate else None)
        result.failures = _compare(expect, report, gate)


def _why_absent(report: Report, expected: Expected) -> str:
    """Why an expected finding is not shown: set aside (and why), or not fired at all."""
    item = expected.found_in(report.suppressed)
    if item is not None:
        reason = {"phase": f"the deal's phase is {item.detail}", "stage": f"the rule is not shown in stage {item.detail}",
                  "yields_to": f"it yields to {item.detail}, which is shown", "implied": f"{item.detail} implies it"}[item.reason]
        return f"it fired but was set aside: {reason}"
    subjects = sorted({f.subject or "" for f in report.findings if f.code == expected.code})
    if subjects:
        return f"it was shown about {', '.join(subjects)} only"
    return "it did not fire"


def _compare(expect: Expectation, report: Report, gate: GateResult | None) -> list[str]:
    failures = []
    shown_codes = ", ".join(dict.fromkeys(f.code for f in report.findings)) or "none"
    for expected in expect.shown:
        if expected.found_in(report.findings) is None:
            failures.append(f"expected {expected} to be shown: {_why_absent(report, expected)} (shown: {shown_codes})")
    for expected in expect.not_shown:
        finding = expected.found_in(report.findings)
        if finding is not None:
            failures.append(f"expected {expected} not to be shown; it was (record fields read: {', '.join(finding.evidence) or '-'})")
    if gate is not None and expect.gate is not None:
        blocking = ", ".join(dict.fromkeys(f.code for f in gate.blocking)) or "none"
        unmet = ", ".join(u.id for u in gate.unmet_milestones)
        if gate.allowed != expect.gate.allowed:
            said = "may advance" if gate.allowed else f"may not advance (blocked by {blocking}{'; unmet: ' + unmet if unmet else ''})"
            failures.append(f"expected the gate to {expect.gate.to} to {'allow' if expect.gate.allowed else 'refuse'} the move; it {said}")
        for expected in expect.gate.blocked_by:
            if expected.found_in(gate.blocking) is None:
                failures.append(f"expected {expected} to block the gate to {expect.gate.to}; blocking: {blocking}")
    return failures


# -- coverage ------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One test as a company rule's author wrote it, asked of the engine on its own."""

    name: str
    code: str
    label: str
    scope: str  # "deal", or the fact type a count's where: or a contact rule tests ("true for some contact")


class Probes:
    """Probe rules for every written test of every company rule, in rulebooks small enough for the engine."""

    def __init__(self, rulebook: Rulebook):
        self.probes: list[Probe] = []
        derivations: list[tuple[Derivation, tuple[Derivation, ...]]] = []
        for rule in rulebook.findings.values():
            for check in rule.checks:
                name = f"probe{len(self.probes) + 1}"
                self.probes.append(Probe(name, rule.code, check.label, check.scope))
                conjunctions = alternatives(check.node)
                facts = sorted({test.fact for conjunction in conjunctions for test in conjunction}, key=ALIAS_ORDER.index)
                counts = tuple(rulebook.derivations[test.field][0] for c in conjunctions for test in c if test.fact == "ledger")
                derivations.append((Derivation(
                    name=name, section="", summary=check.label, origin="company",
                    when=lambda thresholds, conjunctions=conjunctions, facts=tuple(facts): durable_rules(conjunctions, facts),
                ), counts))
        self.books: list[Rulebook] = []
        for start in range(0, len(derivations), PROBES_PER_RULEBOOK):
            chunk = derivations[start:start + PROBES_PER_RULEBOOK]
            counts = {count.name: count for _, needed in chunk for count in needed}
            self.books.append(Rulebook([*counts.values(), *(probe for probe, _ in chunk)]))

    def held(self, coach: Coach, deal, gate_to: str | None) -> set[str]:
        """The probes that hold for this deal (in the gate's facts when the scenario asks for a gate)."""
        if not self.books:
            return set()
        model = coach.playbook.stage_models[deal.stage_model]
        position = locate(deal, model)
        target = model.find_stage(gate_to) if gate_to else None
        facts = build_facts(deal, position, gate_to=target if target is not None and target > position.stage_index else None)
        held: set[str] = set()
        for book in self.books:
            held |= {d.name for d in evaluate(book, coach.playbook.thresholds, facts).derived if d.name.startswith("probe")}
        return held


@dataclass
class Coverage:
    rules: list[tuple[FindingRule, int, int]]  # rule, scenarios where it fired, where it was shown
    tests: list[tuple[Probe, int]]  # written test, scenarios where it held
    scenarios: int
    together: list[tuple[str, str, int]] = field(default_factory=list)  # company rule, a rule on the same topic, scenarios
    switched_off: list[str] = field(default_factory=list)


def coverage(coach: Coach, probes: Probes, results: list[Result]) -> Coverage:
    """How much of the playbook the scenarios that ran exercised."""
    rulebook = coach.rulebook
    ran = [r for r in results if r.error is None]
    rules = [
        (rule, sum(rule.code in r.fired for r in ran), sum(rule.code in r.shown for r in ran))
        for rule in sorted(rulebook.findings.values(), key=lambda r: (r.origin != "company", not r.tuned, r.code))
    ]
    tests = [(probe, sum(probe.name in r.probes for r in ran)) for probe in probes.probes]
    return Coverage(rules, tests, len(ran), _together(rulebook, ran), coach.switched_off())


def _together(rulebook: Rulebook, ran: list[Result]) -> list[tuple[str, str, int]]:
    """Company rules shown only ever beside another rule on the same topic: perhaps saying the same thing twice."""
    found = []
    for rule in rulebook.findings.values():
        if rule.origin != "company" or not rule.topics:
            continue
        shown = [r.shown for r in ran if rule.code in r.shown]
        if not shown:
            continue
        for other in sorted(set.intersection(*shown) - {rule.code}):
            if rulebook.findings[other].topics & rule.topics:
                found.append((rule.code, other, len(shown)))
    return found


def coverage_text(cover: Coverage) -> str:
    """Coverage as a reader scans it: the company's and tuned rules one by one, the rest in a line."""
    lines = [f"Coverage over {cover.scenarios} scenario(s) run"]
    own = [(rule, fired, shown) for rule, fired, shown in cover.rules if rule.origin == "company" or rule.tuned]
    if own:
        lines.append("")
        lines.append("Company and tuned rules (fired / shown in scenarios):")
        for rule, fired, shown in own:
            mark = "NEVER FIRED  " if not fired else ""
            kind = "company" if rule.origin == "company" else "tuned  "
            lines.append(f"  {rule.code:<10} {kind} {fired:>3} / {shown:<3} {mark}{rule.symbol}")
    if cover.switched_off:
        lines.append(f"  switched off: {', '.join(cover.switched_off)}")
    for code in dict.fromkeys(code for code, _, _ in cover.together):
        others = [other for owner, other, _ in cover.together if owner == code]
        lines.append(f"  {code} always shown beside {', '.join(others)} (same topic): where one says what another does, "
                     "use yields_to or replaces")
    never = [rule.code for rule, fired, _ in cover.rules if not fired and rule.origin != "company" and not rule.tuned]
    others = sum(1 for rule, _, _ in cover.rules if rule.origin != "company" and not rule.tuned)
    lines.append("")
    lines.append(f"Shipped rules fired by some scenario: {others - len(never)} of {others}")
    if never:
        lines.append("  never fired: " + ", ".join(never))
    if cover.tests:
        lines.append("")
        lines.append("Company rules' tests (true in how many scenarios):")
        for probe, held in cover.tests:
            some = probe.scope != "deal"  # a test of each contact (competitor...): true when some contact meets it
            note = "  NEVER TRUE" if held == 0 else ("  NEVER FALSE" if held == cover.scenarios and not some else "")
            label = f"some {probe.scope}: {probe.label}" if some else probe.label
            lines.append(f"  {probe.code:<10} {held:>3} / {cover.scenarios:<3} {label}{note}")
    return "\n".join(lines)


def coverage_json(cover: Coverage) -> dict:
    return {
        "scenarios": cover.scenarios,
        "rules": [{"code": rule.code, "symbol": rule.symbol, "origin": rule.origin, "tuned": bool(rule.tuned),
                   "fired": fired, "shown": shown} for rule, fired, shown in cover.rules],
        "tests": [{"code": probe.code, "test": probe.label, "of": probe.scope, "true_in": held} for probe, held in cover.tests],
        "switched_off": cover.switched_off,
        "shown_together": [{"code": code, "with": other, "scenarios": count} for code, other, count in cover.together],
    }


def junit_xml(results: list[Result], suite: str) -> bytes:
    """The results as JUnit XML (one testsuite, a testcase per scenario), as CI systems read it."""
    failures = sum(1 for r in results if r.outcome == "fail")
    errors = sum(1 for r in results if r.outcome == "error")
    def text(value: str) -> str:  # XML 1.0 cannot hold most control characters, even escaped
        return _NOT_XML.sub(lambda found: f"\\x{ord(found.group()):02x}", value)

    root = ElementTree.Element("testsuites", tests=str(len(results)), failures=str(failures), errors=str(errors))
    element = ElementTree.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                                     errors=str(errors), time=f"{sum(r.seconds for r in results):.3f}")
    for result in results:
        case = ElementTree.SubElement(element, "testcase", classname=text(result.file), name=text(result.name),
                                      time=f"{result.seconds:.3f}")
        if result.error is not None:
            ElementTree.SubElement(case, "error", message=text(result.error[:500])).text = text(result.error)
        elif result.failures:
            ElementTree.SubElement(case, "failure", message=text(result.failures[0][:500])).text = text("\n".join(result.failures))
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)

