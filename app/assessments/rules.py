"""The assessment rule files: workflows/assessment_rules.yaml and workflows/star_rating.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from app.assessments.datafile import (
    Labels,
    Strict,
    check_labels,
    first_key_files,
    parse_model,
    read_yaml,
    signature,
)
from app.errors import DefinitionError

OUTCOMES = ("renew", "appoint_higher", "skip_level", "appoint_lower", "dismiss")
LOAN_COUNTS = ("liability_loans", "violating_loans")
QUARTER_FIELDS = ("year", "quarter", "level")


class Threshold(Strict):
    """An inclusive bound on a metric (以上/达到)."""

    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.gte is None and self.lte is None:
            raise ValueError("give 'gte' or 'lte'")
        return self


class Metric(Strict):
    """A star-rating metric and how it is shown."""

    label: Labels
    unit: str = ""

    _labels = field_validator("label")(check_labels)


class FilterCondition(Threshold):
    """One condition of the entry filter, on a metric or a loan count."""

    metric: str


class Band(Strict):
    """A star band: its reward and the conditions that must all hold."""

    stars: Annotated[int, Field(ge=1, le=10)]
    reward: Annotated[float, Field(ge=0)]
    conditions: dict[str, Threshold] = Field(min_length=1)


class Champion(Strict):
    """A champion award (状元): which metric, which end wins, who competes, what a tie does."""

    label: Labels
    metric: str
    pick: Literal["highest", "lowest"] = "highest"
    scope: Literal["branch", "province", "head_office"] = "branch"
    ties: Literal["share", "none"] = "share"

    _labels = field_validator("label")(check_labels)


class StarRules(Strict):
    """The whole star-rating file."""

    star_rating: str
    label: Labels
    metrics: dict[str, Metric] = Field(min_length=1)
    entry_filter: list[FilterCondition] = []
    bands: list[Band] = Field(min_length=1)
    champions: dict[str, Champion] = {}

    _labels = field_validator("label")(check_labels)

    @model_validator(mode="after")
    def _names_resolve(self) -> StarRules:
        known = set(self.metrics) | set(LOAN_COUNTS)
        problems = []
        stars = [band.stars for band in self.bands]
        if stars != sorted(set(stars), reverse=True):
            problems.append("bands: list the bands from most to fewest stars, each once")
        for i, band in enumerate(self.bands):
            problems += [f"bands[{i}].conditions.{name}: unknown metric"
                         for name in band.conditions if name not in self.metrics]
        problems += [f"entry_filter[{i}].metric: unknown metric '{c.metric}'"
                     for i, c in enumerate(self.entry_filter) if c.metric not in known]
        problems += [f"champions.{name}.metric: unknown metric '{c.metric}'"
                     for name, c in self.champions.items() if c.metric not in self.metrics]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TriggerTest(Strict):
    """A test on one field of an assessment result."""

    field: str
    equals: bool | int | float | str | None = None
    in_: list[Any] | None = Field(default=None, alias="in")
    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> TriggerTest:
        if self.equals is None and self.in_ is None and self.gte is None and self.lte is None:
            raise ValueError("a test needs one of 'equals', 'in', 'gte', 'lte'")
        return self

    def holds(self, value: Any) -> bool:
        """Whether a value passes this test (a missing value never does)."""
        if value is None:
            return False
        if self.equals is not None and value != self.equals:
            return False
        if self.in_ is not None and value not in self.in_:
            return False
        try:
            if self.gte is not None and float(value) < self.gte:
                return False
            if self.lte is not None and float(value) > self.lte:
                return False
        except (TypeError, ValueError):
            return False
        return True


class GapTemplate(Strict):
    """How an assessment result is written down as a gap (texts take {year}, {quarter}…)."""

    requirement: Labels
    actual: Labels
    metric: Labels | None = None
    unit: str = ""
    baseline_field: str | None = None
    target: float | None = None

    _labels = field_validator("requirement", "actual")(check_labels)


class ImprovementTrigger(Strict):
    """An assessment result that opens a draft improvement plan."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
    period: Literal["quarter", "year"]
    when: list[TriggerTest] = Field(min_length=1)
    title: Labels
    gap: GapTemplate

    _labels = field_validator("title")(check_labels)


class LevelRange(Strict):
    """Management levels: the best and the worst."""

    best: Literal[1] = 1
    worst: Literal[5] = 5


class AssessmentRules(Strict):
    """The whole assessment-rules file."""

    assessment_rules: str
    label: Labels
    levels: LevelRange = LevelRange()
    level_takes_effect: Literal["next_quarter", "same_quarter"] = "next_quarter"
    outcomes: dict[str, Labels]
    targets_missed_allows: list[str] = Field(min_length=1)
    skip_level_requires_flag: str
    flags: dict[str, Labels] = {}
    annual_fields: dict[str, Labels] = {}
    improvement_triggers: list[ImprovementTrigger] = []

    _labels = field_validator("label")(check_labels)

    @model_validator(mode="after")
    def _names_resolve(self) -> AssessmentRules:
        problems = []
        if set(self.outcomes) != set(OUTCOMES):
            problems.append(f"outcomes: give exactly {', '.join(OUTCOMES)}")
        problems += [f"targets_missed_allows: unknown outcome '{name}'"
                     for name in self.targets_missed_allows if name not in OUTCOMES]
        if self.skip_level_requires_flag not in self.flags:
            problems.append(f"skip_level_requires_flag: unknown flag "
                            f"'{self.skip_level_requires_flag}'")
        names = [t.name for t in self.improvement_triggers]
        problems += [f"improvement_triggers: '{n}' is named twice"
                     for n in sorted({n for n in names if names.count(n) > 1})]
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class RuleBook:
    """Both assessment rule files, checked against each other."""

    assessment: AssessmentRules
    stars: StarRules
    origin: str

    def annual_field_names(self) -> set[str]:
        """Fields an annual result has: fixed ones and the star metrics."""
        return set(self.assessment.annual_fields) | set(self.stars.metrics) | {"year"}

    def field_label(self, name: str) -> Labels:
        """The label of an annual field or metric (the name itself when unknown)."""
        if name in self.assessment.annual_fields:
            return self.assessment.annual_fields[name]
        if name in self.stars.metrics:
            return self.stars.metrics[name].label
        if name == "quarter":
            return {"en": "Quarter", "zh": "季度"}
        return {"en": name, "zh": name}


def _cross_check(book: RuleBook, origin: str) -> list[str]:
    problems = []
    annual = book.annual_field_names()
    for i, trigger in enumerate(book.assessment.improvement_triggers):
        known = set(QUARTER_FIELDS) if trigger.period == "quarter" else annual
        for j, test in enumerate(trigger.when):
            if test.field not in known:
                problems.append(f"{origin}: improvement_triggers[{i}].when[{j}].field: "
                                f"unknown field '{test.field}' for '{trigger.period}' results")
        base = trigger.gap.baseline_field
        if base and base not in known:
            problems.append(f"{origin}: improvement_triggers[{i}].gap.baseline_field: "
                            f"unknown field '{base}'")
    return problems


def _one_file(directory: Path, key: str) -> Path:
    found = first_key_files(directory, key)
    if len(found) != 1:
        where = ", ".join(p.name for p in found) or "none"
        raise DefinitionError([f"{directory.name}: exactly one '{key}:' file is needed "
                               f"(found: {where})"])
    return found[0]


@lru_cache(maxsize=16)
def _load(directory: str, _signature: tuple[tuple[str, int, int], ...]) -> RuleBook:
    root = Path(directory)
    rules_path = _one_file(root, "assessment_rules")
    stars_path = _one_file(root, "star_rating")
    problems: list[str] = []
    parsed: dict[str, Any] = {}
    for key, path, model in (("assessment", rules_path, AssessmentRules),
                             ("stars", stars_path, StarRules)):
        try:
            parsed[key] = parse_model(read_yaml(path), model, path.name)
        except DefinitionError as exc:
            problems += exc.problems
    if problems:
        raise DefinitionError(problems)
    book = RuleBook(parsed["assessment"], parsed["stars"], rules_path.name)
    problems = _cross_check(book, rules_path.name)
    if problems:
        raise DefinitionError(problems)
    return book


def load_rules(directory: Path) -> RuleBook:
    """The assessment rules of a workflows directory (re-read when the files change)."""
    paths = first_key_files(directory, "assessment_rules") + first_key_files(directory,
                                                                              "star_rating")
    return _load(str(directory.resolve()), signature(paths))


def rules_dir(registry: Any = None) -> Path:
    """The workflows directory in use: the given registry's, else the engine's default."""
    if registry is not None:
        return Path(registry.directory)
    from app.engine import runtime

    return Path(runtime.get_registry().directory)


def rule_book(registry: Any = None) -> RuleBook:
    """The rule book of the registry in use."""
    return load_rules(rules_dir(registry))
