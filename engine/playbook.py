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
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from .errors import PlaybookError
from .phases import Phase, Topic
from .vocabulary import fold

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "playbooks" / "default"
LANGUAGES = ("zh", "en")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localised(_Strict):
    """A text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Milestone(_Strict):
    """An exit criterion of a stage, phrased as what the customer has done (M1.1)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Localised
    signs_contract: bool = False  # reaching it means the contract is signed: pre-sale advice stops
    chooses_us: bool = False  # reaching it means the customer has chosen us (award, preferred supplier)
    signs_acceptance: bool = False  # reaching it means the customer signed acceptance (验收)
    # derivations (e.g. `grade`, `insider`) or later milestones (e.g. `selected`) that mean this one is met too
    implied_by: list[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]] = Field(default_factory=list)


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
    milestones: list[Milestone] = Field(default_factory=list)
    stall_days: Annotated[int, Field(ge=1)] | None = None
    tags: list[StageTag] = Field(default_factory=list)
    phase: Phase | None = None  # where the stage stands in the sale; inferred from tags and position when absent


class StageModel(_Strict):
    """An ordered list of stages (M2)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: Localised
    section: str
    stages: list[Stage] = Field(min_length=1)
    _stages: dict[str, object] = PrivateAttr(default_factory=dict)
    _steps: dict[str, object] = PrivateAttr(default_factory=dict)
    _milestones: dict[str, object] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ids(self) -> StageModel:
        for kind, ids in (
            ("stage", [s.id for s in self.stages]),
            ("buying step", [s.buying_step.id for s in self.stages]),
            ("milestone", [m.id for s in self.stages for m in s.milestones]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{kind} ids must be unique; repeated: {', '.join(repeated)}")
        return self

    def model_post_init(self, context: object) -> None:
        """Index every accepted spelling (id, Chinese name, folded English name) once."""
        self._stages = self._index((s.id, s.name, i) for i, s in enumerate(self.stages))
        self._steps = self._index((s.buying_step.id, s.buying_step.name, i) for i, s in enumerate(self.stages))
        self._milestones = self._index((m.id, m.name, (i, m)) for i, s in enumerate(self.stages) for m in s.milestones)

    @staticmethod
    def _index(entries) -> dict[str, object]:
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


class Thresholds(_Strict):
    """Numbers the rules compare against; a company playbook may change any of them."""

    key_person_stale_days: int = Field(60, ge=1, le=3650)
    grade_a_days: int = Field(183, ge=1, le=3650)
    grade_b_days: int = Field(365, ge=1, le=3650)
    grade_c_days: int = Field(548, ge=1, le=3650)
    funnel_min_amount: float = Field(100_000, ge=0)
    soe_collective_amount: float = Field(1_000_000, ge=0)
    min_contacts_mapped: int = Field(3, ge=1, le=100)
    ultimatums_to_verify: int = Field(2, ge=1, le=100)
    receivable_due_soon_days: int = Field(14, ge=0, le=365)
    bad_debt_days: int = Field(180, ge=1, le=3650)
    customer_dependence_percent: float = Field(30, ge=0, le=100)

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

    severity: dict[Literal["block", "warn", "info"], int] = {"block": 100, "warn": 50, "info": 10}
    focus: int = Field(30, ge=0, le=1000)
    urgency: int = Field(20, ge=0, le=1000)
    urgency_days: int = Field(90, ge=1, le=3650)
    purpose: int = Field(40, ge=0, le=1000)
    per_extra_finding: int = Field(5, ge=0, le=100)
    shown: int = Field(8, ge=1, le=100)  # cards shown by default; blocking cards are always shown
    first_moves: int = Field(3, ge=1, le=10)  # actions in "do these first"
    explained: int = Field(3, ge=0, le=100)  # cards shown with their why by default (the rest: title and action)
    phase_focus: dict[Phase, list[Topic]] = {}
    purpose_topics: dict[Literal[PURPOSES], list[Topic]] = {}  # type: ignore[valid-type]
    grade_weight: dict[Literal["A", "B", "C", "D", "-"], float] = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "-": 0.7}


@dataclass(frozen=True)
class Playbook:
    """Everything a review needs besides the deal: stage models, thresholds, wording."""

    stage_models: dict[str, StageModel]
    thresholds: Thresholds
    terms: dict[str, dict[str, str]]
    template_dirs: tuple[Path, ...]
    priority: Priority = Priority()

    @cached_property
    def version_tag(self) -> str:
        """Identifies everything that can change a decision: thresholds and stage models."""
        content = {
            "thresholds": self.thresholds.model_dump(),
            "priority": self.priority.model_dump(mode="json"),
            "stage_models": {k: v.model_dump() for k, v in sorted(self.stage_models.items())},
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]

    def stage_model(self, model_id: str) -> StageModel | None:
        return self.stage_models.get(model_id)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PlaybookError(f"{path}: cannot read playbook file: {error}") from None


def _validated(model: type[BaseModel], data: object, path: Path) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or '(top)'}: {issue['msg']}" for issue in error.errors()
        )
        raise PlaybookError(f"{path}: invalid {model.__name__}: {problems}") from None


def _layer(directory: Path, models: dict, thresholds: dict, terms: dict, priority: dict) -> None:
    settings = directory / "playbook.yaml"
    if settings.exists():
        data = _read_yaml(settings) or {}
        if not isinstance(data, dict) or set(data) - {"thresholds", "priority"}:
            raise PlaybookError(f"{settings}: expected a mapping with the keys 'thresholds' and 'priority'")
        thresholds.update(data.get("thresholds") or {})
        extra = data.get("priority") or {}
        if not isinstance(extra, dict):
            raise PlaybookError(f"{settings}: 'priority' must be a mapping")
        priority.update(extra)
    for path in sorted((directory / "stage_models").glob("*.yaml")):
        model = _validated(StageModel, _read_yaml(path), path)
        models[model.id] = model  # type: ignore[attr-defined]
    for language in LANGUAGES:
        path = directory / "terms" / f"{language}.yaml"
        if path.exists():
            data = _read_yaml(path) or {}
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise PlaybookError(f"{path}: expected a flat mapping of term keys to text")
            terms[language].update(data)


def load_playbook(custom_dir: Path | str | None = None) -> Playbook:
    """The default playbook, with a company's directory laid over it when given."""
    directories = [DEFAULT_DIR]
    if custom_dir is not None:
        custom = Path(custom_dir)
        if not custom.is_dir():
            raise PlaybookError(f"{custom}: playbook directory not found")
        directories.append(custom)
    models: dict[str, StageModel] = {}
    thresholds: dict = {}
    terms: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    priority: dict = {}
    for directory in directories:
        _layer(directory, models, thresholds, terms, priority)
    return Playbook(
        stage_models=models,
        thresholds=_validated(Thresholds, thresholds, directories[-1] / "playbook.yaml"),  # type: ignore[arg-type]
        terms=terms,
        template_dirs=tuple(d / "templates" for d in reversed(directories)),
        priority=_validated(Priority, priority, directories[-1] / "playbook.yaml"),  # type: ignore[arg-type]
    )
