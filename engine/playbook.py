"""Playbooks: stage models, thresholds, term tables and finding templates.

The shipped playbook lives in `playbooks/default/`. A company's own playbook
directory has the same layout, every part optional, and is laid over the
default: its thresholds and terms override key by key, its stage models add to
or replace the shipped ones by id, and its templates replace shipped templates
of the same name (see README "Custom playbooks").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from .code_cache import parsed_data
from .errors import PlaybookError
from .phases import Phase, Topic
from .term_format import TermFormatError, allowed_fields, term_fields
from .vocabulary import fold
from . import yaml_limits
from .yaml_limits import TooDeep, check_nesting, key_lines, line_of, repeated_key

if TYPE_CHECKING:
    from .company_rules import RuleSettings
    from .rulebook import Rulebook

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "playbooks" / "default"
LANGUAGES = ("zh", "en")

# What a playbook directory may hold (README "Custom playbooks"). Generous: the shipped one is far below.
MAX_FILES = 2_000  # files and folders in a playbook directory
MAX_YAML_BYTES = 1_000_000  # one playbook.yaml, stage model or term table
MAX_TEMPLATE_BYTES = 256_000  # one template
MAX_NESTING = 20  # levels of nested YAML collections
MAX_STAGE_MODELS = 50
MAX_STAGES = 200  # per stage model
MAX_MILESTONES = 50  # per stage
MAX_TERMS = 5_000  # per language
MAX_TERM_CHARS = 2_000
MAX_NAME_CHARS = 200  # a stage, buying step, milestone or stage model name
MAX_PROBLEMS = 10  # listed in one error message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localised(_Strict):
    """A text in both languages."""

    zh: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    en: str = Field(min_length=1, max_length=MAX_NAME_CHARS)


class Milestone(_Strict):
    """An exit criterion of a stage, phrased as what the customer has done (M1.1)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Localised
    signs_contract: bool = False  # reaching it means the contract is signed: pre-sale advice stops
    chooses_us: bool = False  # reaching it means the customer has chosen us (award, preferred supplier)
    signs_acceptance: bool = False  # reaching it means the customer signed acceptance (验收)
    # derivations (e.g. `grade`, `insider`) or later milestones (e.g. `selected`) that mean this one is met too
    implied_by: list[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]] = Field(default_factory=list, max_length=MAX_MILESTONES)


class BuyingStep(_Strict):
    """The customer's own buying step that a sales stage follows."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Localised


StageTag = Literal["decision_window", "specs_fixed", "negotiation", "after_contract"]
STAGE_TAGS: tuple[str, ...] = StageTag.__args__  # type: ignore[attr-defined]


class Stage(_Strict):
    """One sales stage, the buying step it matches and its milestones.

    Tags mark what the methodology says about the stage's buying step:
    `decision_window` — a moment to meet the decision level (M2.1);
    `specs_fixed` — requirements are fixed by now, so entering is late (M2.1);
    `negotiation` — price and terms are on the table (M7.5);
    `after_contract` — delivery and collection (M9).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Localised
    buying_step: BuyingStep
    milestones: list[Milestone] = Field(default_factory=list, max_length=MAX_MILESTONES)
    stall_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None
    tags: list[StageTag] = Field(default_factory=list, max_length=len(STAGE_TAGS))
    phase: Phase | None = None  # where the stage stands in the sale; inferred from tags and position when absent


class StageModel(_Strict):
    """An ordered list of stages (M2)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: Localised
    section: str
    stages: list[Stage] = Field(min_length=1, max_length=MAX_STAGES)
    _stages: dict[str, object] = PrivateAttr(default_factory=dict)
    _steps: dict[str, object] = PrivateAttr(default_factory=dict)
    _milestones: dict[str, object] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _one_meaning_per_spelling(self) -> StageModel:
        """Every spelling the find_* lookups accept (id, Chinese name, English name, after folding case,
        spaces, hyphens and underscores) names one stage, one buying step and one milestone only."""
        for kind, entries in (
            ("stage", [(s.id, s.name, s.id) for s in self.stages]),
            ("buying step", [(s.buying_step.id, s.buying_step.name, s.id) for s in self.stages]),
            ("milestone", [(m.id, m.name, s.id) for s in self.stages for m in s.milestones]),
        ):
            owner: dict[str, tuple[int, str, str]] = {}  # spelling -> (entry number, what it is, stage id)
            for number, (entry_id, name, stage_id) in enumerate(entries):
                for spelling, what in _spellings(entry_id, name):
                    first = owner.setdefault(spelling, (number, what, stage_id))
                    if first[0] == number:
                        continue
                    first_id = entries[first[0]][0]
                    where = (f" (in stages {first[2]!r} and {stage_id!r})" if kind != "stage" else "")
                    if first_id == entry_id:
                        raise ValueError(f"{kind} id {entry_id!r} is used twice{where}; ids must be unique")
                    raise ValueError(
                        f"{kind} {first_id!r} ({first[1]}) and {kind} {entry_id!r} ({what}) are both called {spelling!r} "
                        f"once case, spaces, hyphens and underscores are ignored{where}; give each its own name"
                    )
        return self

    def model_post_init(self, context: object) -> None:
        """Index every accepted spelling (id, Chinese name, folded English name) once."""
        self._stages = self._index((s.id, s.name, i) for i, s in enumerate(self.stages))
        self._steps = self._index((s.buying_step.id, s.buying_step.name, i) for i, s in enumerate(self.stages))
        self._milestones = self._index((m.id, m.name, (i, m)) for i, s in enumerate(self.stages) for m in s.milestones)

    @staticmethod
    def _index(entries) -> dict[str, object]:
        # _one_meaning_per_spelling has made every spelling unique, so no entry hides another
        index: dict[str, object] = {}
        for entry_id, name, value in entries:
            for spelling in (entry_id, name.zh, fold(name.en)):
                index.setdefault(spelling, value)
        return index

    @staticmethod
    def _lookup(index: dict[str, object], spelling: str) -> object | None:
        wanted = spelling.strip()
        return index.get(wanted, index.get(fold(wanted)))

    def phase_of(self, index: int) -> Phase:
        """The phase of stage `index`: as declared, else inferred (after_contract and negotiation tags,
        the first stage qualifies, the last before negotiation bids, the rest enter or propose)."""
        stage = self.stages[index]
        if stage.phase is not None:
            return stage.phase
        if "after_contract" in stage.tags:
            return Phase.AFTER_CONTRACT
        if "negotiation" in stage.tags:
            return Phase.NEGOTIATION
        if index == 0:
            return Phase.QUALIFY
        return Phase.ENTRY if index == 1 else Phase.PROPOSAL

    def any_reached(self, reached: set[str], flag: str) -> bool:
        """Whether a reached milestone carries `flag` (signs_contract, chooses_us, signs_acceptance)."""
        return any(getattr(m, flag) and m.id in reached for stage in self.stages for m in stage.milestones)

    def find_stage(self, spelling: str) -> int | None:
        """Index of the stage named by id, Chinese or English name."""
        return self._lookup(self._stages, spelling)  # type: ignore[return-value]

    def find_step(self, spelling: str) -> int | None:
        """Index of the buying step named by id, Chinese or English name."""
        return self._lookup(self._steps, spelling)  # type: ignore[return-value]

    def find_milestone(self, spelling: str) -> tuple[int, Milestone] | None:
        """(stage index, milestone) named by id, Chinese or English name."""
        return self._lookup(self._milestones, spelling)  # type: ignore[return-value]


def _spellings(entry_id: str, name: Localised) -> list[tuple[str, str]]:
    """The spellings under which the find_* lookups find an entry, with what each one is."""
    return [
        (entry_id, "id"),
        (name.zh, "Chinese name"),
        (fold(name.zh), "Chinese name"),
        (fold(name.en), "English name"),
    ]


def _whole(default: int, low: int, high: int, unit: str = "") -> int:
    """A whole-number setting: booleans, text and fractions are refused."""
    return Field(default, strict=True, ge=low, le=high, description=f"a whole number{unit} from {low} to {high}")


def _exact_enough(value: float) -> float:
    """The rule engine reads numbers written in exponent notation (below 0.0001) wrongly: keep to hundredths."""
    if 0 < value < 0.01:
        raise ValueError("must be 0 or at least 0.01")
    return value


MAX_AMOUNT = 1e15  # the largest deal amount (engine.model.Money); the rule engine cannot hold 1e16 and above
Amount = Annotated[
    float,
    Field(strict=True, ge=0, le=MAX_AMOUNT, allow_inf_nan=False,
          description="an amount from 0 to 1000000000000000, either 0 or at least 0.01"),
    AfterValidator(_exact_enough),
]
Percent = Annotated[
    float,
    Field(strict=True, ge=0, le=100, allow_inf_nan=False, description="a percentage from 0 to 100, either 0 or at least 0.01"),
    AfterValidator(_exact_enough),
]


class Thresholds(_Strict):
    """Numbers the rules compare against; a company playbook may change any of them within the ranges given."""

    key_person_stale_days: int = _whole(60, 1, 3650, " of days")
    grade_a_days: int = _whole(183, 1, 3650, " of days")
    grade_b_days: int = _whole(365, 1, 3650, " of days")
    grade_c_days: int = _whole(548, 1, 3650, " of days")
    funnel_min_amount: Amount = 100_000
    soe_collective_amount: Amount = 1_000_000
    min_contacts_mapped: int = _whole(3, 1, 100)
    ultimatums_to_verify: int = _whole(2, 1, 100)
    receivable_due_soon_days: int = _whole(14, 0, 365, " of days")
    bad_debt_days: int = _whole(180, 1, 3650, " of days")
    customer_dependence_percent: Percent = 30

    @model_validator(mode="after")
    def _grades_in_order(self) -> Thresholds:
        if not self.grade_a_days < self.grade_b_days < self.grade_c_days:
            raise ValueError("grade_a_days < grade_b_days < grade_c_days is required")
        return self


PURPOSES = ("first_visit", "technical_exchange", "proposal", "negotiation", "tender_clarification", "acceptance")


class Priority(_Strict):
    """The priority model: how a finding's score is made (README "Priority"). A company playbook may tune it.

    score = severity weight
          + focus, when the rule's topics are the focus of the deal's phase (full for the phase's
            first topic, two thirds for the others)
          + urgency × (1 − days to close ÷ urgency_days), for focus and blocking findings when the close is near
          + purpose, when the rule's topics serve the meeting's purpose (brief, review --purpose)
    A card scores as its best finding, plus `per_extra_finding` for each other finding it holds (at most 3).
    """

    severity: dict[Literal["block", "warn", "info"], Annotated[int, Field(strict=True, ge=0, le=1000)]] = Field(
        {"block": 100, "warn": 50, "info": 10}, description="each a whole number from 0 to 1000"
    )
    focus: int = _whole(30, 0, 1000)
    urgency: int = _whole(20, 0, 1000)
    urgency_days: int = _whole(90, 1, 3650, " of days")
    purpose: int = _whole(40, 0, 1000)
    per_extra_finding: int = _whole(5, 0, 100)
    shown: int = _whole(8, 1, 100)  # cards shown by default; blocking cards are always shown
    first_moves: int = _whole(3, 1, 10)  # actions in "do these first"
    explained: int = _whole(3, 0, 100)  # cards shown with their why by default (the rest: title and action)
    phase_focus: dict[Phase, list[Topic]] = {}
    purpose_topics: dict[Literal[PURPOSES], list[Topic]] = {}  # type: ignore[valid-type]
    grade_weight: dict[
        Literal["A", "B", "C", "D", "-"], Annotated[float, Field(strict=True, ge=0, le=10, allow_inf_nan=False)]
    ] = Field({"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "-": 0.7}, description="each a number from 0 to 10")

    @model_validator(mode="after")
    def _complete(self) -> Priority:
        for name, keys in (("severity", ("block", "warn", "info")), ("grade_weight", ("A", "B", "C", "D", "-"))):
            missing = [key for key in keys if key not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} needs a value for each of {', '.join(keys)}; missing: {', '.join(missing)}")
        return self


@dataclass(frozen=True)
class Playbook:
    """Everything a review needs besides the deal: stage models, thresholds, wording."""

    stage_models: dict[str, StageModel]
    thresholds: Thresholds
    terms: dict[str, dict[str, str]]
    template_dirs: tuple[Path, ...]
    priority: Priority = Priority()
    rulebook: Rulebook | None = None  # the shipped rules as the playbook changed them, plus its own (None: as shipped)
    rule_source: str = ""  # the playbook's `rules:` and `company_rules:` as written (canonical JSON), for version_tag

    @cached_property
    def version_tag(self) -> str:
        """Identifies everything that can change a decision: thresholds, stage models and the rules."""
        content = {
            "thresholds": self.thresholds.model_dump(),
            "priority": self.priority.model_dump(mode="json"),
            "stage_models": {k: v.model_dump() for k, v in sorted(self.stage_models.items())},
            **({"rules": self.rule_source} if self.rule_source else {}),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]

    def stage_model(self, model_id: str) -> StageModel | None:
        return self.stage_models.get(model_id)


def _outside(path: Path, target: Path, root: Path) -> str:
    return f"{path}: a link to {target}, outside the playbook directory {root}; a playbook may link only to its own files"


def read_playbook_file(path: Path, root: Path, limit: int) -> bytes:
    """The bytes of the regular file `path` inside the playbook directory `root` (a link is followed only
    while it stays inside), at most `limit` of them; PlaybookError naming the file otherwise."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as error:  # a loop of links
        raise PlaybookError(f"{path}: cannot read playbook file: {error}") from None
    if not resolved.is_relative_to(root):
        raise PlaybookError(_outside(path, resolved, root))
    try:
        # O_NONBLOCK: a named pipe put in place of a file must not hang the reader
        descriptor = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise PlaybookError(f"{path}: not a regular file")
            data = file.read(limit + 1)
    except OSError as error:
        raise PlaybookError(f"{path}: cannot read playbook file: {error.strerror or error}") from None
    if len(data) > limit:
        raise PlaybookError(f"{path}: larger than {limit:,} bytes, the most a playbook file may hold")
    return data


def _check_tree(root: Path) -> None:
    """Refuse a playbook directory with a link leading outside it, anything but files and folders (a named
    pipe, a device), or more than MAX_FILES entries. Links that stay inside are allowed."""
    count = 0
    for folder, folders, files in os.walk(root):  # a linked folder is not followed: it is checked as a link
        for name in (*folders, *files):
            count += 1
            if count > MAX_FILES:
                raise PlaybookError(f"{root}: more than {MAX_FILES:,} files and folders; a playbook holds stage models, terms and templates")
            path = Path(folder, name)
            if path.is_symlink():
                try:
                    target = path.resolve()
                except (OSError, RuntimeError) as error:
                    raise PlaybookError(f"{path}: a link that cannot be followed: {error}") from None
                if not target.is_relative_to(root):
                    raise PlaybookError(_outside(path, target, root))
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:  # gone since it was listed
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise PlaybookError(f"{path}: neither a file nor a folder; a playbook holds only files and folders")


def _line_of(path: Path, key: str) -> int | None:
    """The line where `key:` is written in a playbook file, for error messages."""
    try:
        lines = read_playbook_file(path, path.parent.resolve(), MAX_YAML_BYTES).decode("utf-8", "replace").splitlines()
    except PlaybookError:
        return None
    written = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*:""")
    found = [number for number, line in enumerate(lines, 1) if written.match(line)]
    return found[-1] if found else None  # a key written twice: YAML keeps the last


def _at(path: Path, key: str) -> str:
    """`path, line N` where `key` is written, else `path`."""
    line = _line_of(path, key)
    return f"{path}, line {line}" if line else str(path)


def _read_yaml(path: Path, root: Path) -> object:
    """A playbook YAML file's data (a key written twice: the last one stands, as in a term table with an override
    appended)."""
    return _parse_yaml(path, _yaml_text(path, root))


def _yaml_text(path: Path, root: Path) -> str:
    """A playbook YAML file's text, read once."""
    try:
        return read_playbook_file(path, root, MAX_YAML_BYTES).decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlaybookError(f"{path}: cannot read playbook file: not UTF-8 text (byte {error.start})") from None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What a kept parse depends on: the parser, and dealcoach's own checks of the text (this module's and yaml_limits'
# code, hashed: a check changed by a later version is never skipped for a text kept by an earlier one).
def _checks_digest() -> str:
    try:
        return hashlib.sha256(Path(__file__).read_bytes() + Path(yaml_limits.__file__).read_bytes()).hexdigest()
    except OSError:  # sources not readable: nothing kept by another process can be trusted to match
        return os.urandom(16).hex()


_PARSER = f"PyYAML {yaml.__version__} {_LOADER.__name__}\0{_checks_digest()}"


def _parse_yaml(path: Path, text: str, unique_keys: bool = False) -> object:
    """`text`'s data; `unique_keys`: a key written twice in one mapping is an error (playbook.yaml, where a repeated
    `company_rules:` would drop every rule above it). A text parsed before is read back from engine.code_cache."""

    def parse(text: str) -> object:
        check_nesting(text, MAX_NESTING)
        repeated = repeated_key(text) if unique_keys else None
        if repeated is not None:
            raise PlaybookError(f"{path}, line {repeated[0]}: {repeated[1]!r} is written twice in the same place; YAML would keep "
                                "only the last one, so write it once")
        return yaml.load(text, Loader=_LOADER)  # noqa: S506

    try:
        return parsed_data(text, f"{_PARSER}\0unique keys {unique_keys}", parse)
    except TooDeep as error:
        raise PlaybookError(f"{path}, line {error.line}: nested deeper than {error.limit} levels, the most a playbook file may") from None
    except yaml.MarkedYAMLError as error:
        raise PlaybookError(_yaml_problem(path, error)) from None
    except (yaml.YAMLError, ValueError) as error:  # ValueError: e.g. an integer of more than 4,300 digits
        raise PlaybookError(f"{path}: cannot read playbook file: {error}") from None


def _yaml_problem(path: Path, error: yaml.MarkedYAMLError) -> str:
    """A YAML syntax error as `file, line N, column M: what`, with the usual cause when it is a tab or an indent."""
    mark = error.problem_mark or error.context_mark
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    problem = (error.problem or str(error)).strip()
    if "tab" in problem or "\t" in problem:
        problem += " (YAML indents with spaces; a tab is not allowed)"
    elif any(sign in problem for sign in ("expected key", "expected '-'", "expected <block end>", "mapping values are not allowed")):
        problem += " (look at the indentation of this line and the lines before it)"
    return f"{where}: cannot read playbook file: not valid YAML: {problem}"


def _validated(model: type[BaseModel], data: object, path: Path) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        issues = error.errors()
        problems = [validation_problem(model, issue) for issue in issues[:MAX_PROBLEMS]]
        if len(issues) > MAX_PROBLEMS:
            problems.append(f"and {len(issues) - MAX_PROBLEMS} more")
        first = issues[0]["loc"][0] if issues and issues[0]["loc"] else None
        where = _at(path, first) if isinstance(first, str) else str(path)
        raise PlaybookError(f"{where}: invalid {model.__name__}: {'; '.join(problems)}") from None


def validation_problem(model: type[BaseModel], issue: dict) -> str:
    """One validation problem: where, what is wrong and, for a setting, its allowed range."""
    loc = issue["loc"]
    field = model.model_fields.get(loc[0]) if loc and isinstance(loc[0], str) else None
    allowed = f" (allowed: {field.description})" if field and field.description and issue["type"] != "extra_forbidden" else ""
    message = issue["msg"].removeprefix("Value error, ")
    return f"{'.'.join(str(part) for part in loc)}: {message}{allowed}" if loc else message


def _mapping(data: dict, key: str, path: Path) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlaybookError(f"{_at(path, key)}: {key!r} must be a mapping of settings, not {type(value).__name__}")
    return value


def _read_terms(path: Path, root: Path, shipped: dict[str, dict[str, str]] | None) -> dict[str, str]:
    """A term table, each text a valid term (engine.term_format) using only the fields its key is given."""
    data = _read_yaml(path, root) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise PlaybookError(f"{path}: expected a flat mapping of term keys to text")
    if len(data) > MAX_TERMS:
        raise PlaybookError(f"{path}: {len(data):,} terms; at most {MAX_TERMS:,}")
    for key, text in data.items():
        if len(text) > MAX_TERM_CHARS:
            raise PlaybookError(f"{_at(path, key)}: term {key!r} is longer than {MAX_TERM_CHARS:,} characters")
        try:
            fields = term_fields(text)
        except TermFormatError as error:
            raise PlaybookError(f"{_at(path, key)}: term {key!r}: {error}") from None
        allowed = allowed_fields(key, shipped) if shipped is not None else None
        if allowed is not None and not fields <= allowed:
            given = ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"
            raise PlaybookError(
                f"{_at(path, key)}: term {key!r} uses {{{sorted(fields - allowed)[0]}}}, which it is never given; its fields: {given}"
            )
    return data


SETTINGS_KEYS = ("thresholds", "priority", "rules", "company_rules")


def _layer(
    directory: Path, models: dict, thresholds: dict, terms: dict, priority: dict, shipped: dict[str, dict[str, str]] | None,
    rules: list[RuleSettings],
) -> None:
    settings = directory / "playbook.yaml"
    if settings.exists():
        text = _yaml_text(settings, directory)
        data = _parse_yaml(settings, text, unique_keys=True) or {}
        if not isinstance(data, dict) or set(data) - set(SETTINGS_KEYS):
            raise PlaybookError(f"{settings}: expected a mapping with the keys {', '.join(map(repr, SETTINGS_KEYS))}")
        thresholds.update(_mapping(data, "thresholds", settings))
        priority.update(_mapping(data, "priority", settings))
        if data.get("rules") is not None or data.get("company_rules") is not None:
            from .company_rules import read_settings

            lines = key_lines(text)
            rules.append(read_settings(data, lambda path: _where(settings, lines, path)))
    paths = sorted((directory / "stage_models").glob("*.yaml"))
    if len(paths) > MAX_STAGE_MODELS:
        raise PlaybookError(f"{directory / 'stage_models'}: {len(paths)} stage models; at most {MAX_STAGE_MODELS}")
    for path in paths:
        model = _validated(StageModel, _read_yaml(path, directory), path)
        models[model.id] = model  # type: ignore[attr-defined]
    for language in LANGUAGES:
        path = directory / "terms" / f"{language}.yaml"
        if path.exists():
            terms[language].update(_read_terms(path, directory, shipped))


def _where(path: Path, lines: dict[tuple, int], at: tuple) -> str:
    """`file, line N` of the deepest part of `at` written in the file."""
    line = line_of(lines, at)
    return f"{path}, line {line}" if line else str(path)


def _rulebook(
    layers: list[RuleSettings], models: dict[str, StageModel], terms: dict[str, dict[str, str]], thresholds: Thresholds
) -> tuple[Rulebook | None, str]:
    """The rulebook a playbook's `rules:` and `company_rules:` make (None when it has neither), and their canonical text."""
    settings = [layer for layer in layers if not layer.empty]
    if not settings:
        return None, ""
    from ..rules import catalog
    from .company_rules import build_rulebook, check_capacity, count_names
    from .condition_language import Names

    layer = settings[-1]
    stages, steps = Names("stage", tuple(models.values())), Names("buying step", tuple(models.values()))
    rulebook = build_rulebook(catalog(), layer, stages, steps)
    check_capacity(rulebook, thresholds, layer)
    for name, label in count_names(rulebook).items():  # how a count reads in a reasoning chain (--explain)
        for language in LANGUAGES:
            terms[language].setdefault(f"derived.{name}", label)
    source = json.dumps(
        {"rules": {code: change.model_dump(mode="json") for code, (change, _) in layer.changes.items()},
         "company_rules": [spec.model_dump(mode="json") for spec, _ in layer.company]},
        sort_keys=True, ensure_ascii=False, default=str,
    )
    return rulebook, source


def load_playbook(custom_dir: Path | str | None = None) -> Playbook:
    """The default playbook, with a company's directory laid over it when given."""
    directories = [DEFAULT_DIR]
    if custom_dir is not None:
        custom = Path(custom_dir)
        if not custom.is_dir():
            raise PlaybookError(f"{custom}: playbook directory not found")
        custom = custom.resolve()  # a directory reached through a link: its files must stay inside its target
        _check_tree(custom)
        directories.append(custom)
    models: dict[str, StageModel] = {}
    thresholds: dict = {}
    terms: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    priority: dict = {}
    rules: list[RuleSettings] = []
    for directory in directories:
        shipped = None if directory == DEFAULT_DIR else {language: dict(table) for language, table in terms.items()}
        _layer(directory, models, thresholds, terms, priority, shipped, rules)
    checked = _validated(Thresholds, thresholds, directories[-1] / "playbook.yaml")
    rulebook, source = _rulebook(rules, models, terms, checked)  # type: ignore[arg-type]
    return Playbook(
        rulebook=rulebook,
        rule_source=source,
        stage_models=models,
        thresholds=checked,  # type: ignore[arg-type]
        terms=terms,
        template_dirs=tuple(d / "templates" for d in reversed(directories)),
        priority=_validated(Priority, priority, directories[-1] / "playbook.yaml"),  # type: ignore[arg-type]
    )
