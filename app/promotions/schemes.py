"""Promotion schemes as data (workflows/promotion/*.yaml, first key `scheme:`): load and check.

A scheme names its titles in order (lowest first) with their tier and staff grade, the
application window, the facts an application declares, the qualification conditions (hard or
"generally"), the ambiguous readings as named settings, the blocks, caps and per-title entry
rules, and for every tier the workflow that carries the request (the approval route).
"""

from __future__ import annotations

import re
from datetime import date
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
from app.assessments.rules import RuleBook, load_rules
from app.engine import actors as actor_exprs
from app.engine import definitions as defs
from app.errors import DefinitionError, NotFound
from app.i18n import Message

NAME = r"^[a-z][a-z0-9_]*$"
MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
KINDS = ("self_application", "nomination")
BUILTIN_FACTS: dict[str, Message] = {
    "outstanding_contribution": Message("Outstanding contribution"),
    "in_subordinate_branch": Message("Works in a subordinate branch"),
    "application_kind": Message("How the case was started"),
    "skip_level": Message("Skip-level"),
}


class Title(Strict):
    """A grade or professional title of the scheme."""

    name: Annotated[str, Field(pattern=NAME, max_length=60)]
    label: Labels
    tier: Annotated[str, Field(pattern=NAME, max_length=60)]
    staff_grade: Annotated[int, Field(ge=1, le=30)] | None = None

    _labels = field_validator("label")(check_labels)


class FactSpec(Strict):
    """A fact an application declares (education, years in banking…)."""

    type: Literal["bool", "number", "choice"]
    label: Labels
    choices: dict[str, Labels] = {}
    min: float | None = None
    max: float | None = None

    _labels = field_validator("label")(check_labels)

    @model_validator(mode="after")
    def _choices_for_choice(self) -> FactSpec:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("a 'choice' fact needs 'choices'; other types have none")
        return self


class Qualification(Strict):
    """A qualification condition: hard ones refuse, "generally" ones need a justification."""

    rule: Annotated[str, Field(min_length=1, max_length=20)]
    label: Labels
    strength: Literal["hard", "generally"]
    when: Any  # a Condition, parsed after the shape check (see _conditions)

    _labels = field_validator("label")(check_labels)


class SettingChoice(Strict):
    """One reading of an ambiguous rule."""

    label: Labels
    when: Any

    _labels = field_validator("label")(check_labels)


class Setting(Strict):
    """An ambiguous rule of the sources, made a named choice (default as the sources give it)."""

    label: Labels
    default: str
    value: str | None = None
    choices: dict[str, SettingChoice] = Field(min_length=1)

    _labels = field_validator("label")(check_labels)

    @property
    def chosen(self) -> str:
        """The reading in use."""
        return self.value or self.default


class Rule(Strict):
    """A cited rule: id, words, and the condition."""

    rule: Annotated[str, Field(min_length=1, max_length=20)]
    label: Labels
    when: Any

    _labels = field_validator("label")(check_labels)


class Cap(Rule):
    """When the condition holds, titles above `highest` are out of reach."""

    highest: str


class DateRange(Strict):
    """A window's dates for one particular year (HR's correction)."""

    opens: date
    closes: date


class Window(Strict):
    """When applications are taken: once a year, between two month-days."""

    opens: str
    closes: str
    assessment_year: Literal["previous", "current"] = "previous"
    years: dict[int, DateRange] = {}

    @field_validator("opens", "closes")
    @classmethod
    def _month_day(cls, text: str) -> str:
        match = MONTH_DAY.match(text)
        if not match:
            raise ValueError("write the date as \"MM-DD\", e.g. \"03-01\"")
        try:
            date(2024, int(match.group(1)), int(match.group(2)))
        except ValueError:
            raise ValueError(f"'{text}' is not a day of the year") from None
        return text

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.opens > self.closes:
            raise ValueError("window: 'opens' must not be after 'closes'")
        for year, dates in self.years.items():
            if dates.opens > dates.closes:
                raise ValueError(f"window.years.{year}: 'opens' must not be after 'closes'")
        return self

    def dates(self, year: int) -> tuple[date, date]:
        """The window of one calendar year."""
        if year in self.years:
            return self.years[year].opens, self.years[year].closes

        def day(text: str) -> date:
            month, dom = (int(x) for x in text.split("-"))
            if (month, dom) == (2, 29):
                try:
                    return date(year, 2, 29)
                except ValueError:
                    return date(year, 2, 28)
            return date(year, month, dom)

        return day(self.opens), day(self.closes)


class RouteSpec(Strict):
    """The approval route of a tier: its workflow, who may start it, and who is informed."""

    workflow: Annotated[str, Field(pattern=NAME, max_length=60)]
    application_kinds: list[Literal["self_application", "nomination"]] = list(KINDS)
    via_supervising_branch: Any = None  # a Condition: the supervising branch approves first
    filing: list[str] = []  # actor expressions informed once the appointment is issued
    appointed_state: str = "appointed"


class Scheme(Strict):
    """A whole promotion scheme file."""

    scheme: Annotated[str, Field(pattern=NAME, max_length=60)]
    label: Labels
    description: Labels | None = None
    source: str = ""
    titles: list[Title] = Field(min_length=2)
    window: Window
    facts: dict[str, FactSpec] = {}
    qualifications: list[Qualification] = []
    settings: dict[str, Setting] = {}
    blocks: list[Rule] = []
    caps: list[Cap] = []
    eligibility: dict[str, list[Rule]] = {}
    routes: dict[str, RouteSpec] = Field(min_length=1)

    _labels = field_validator("label")(check_labels)

    def title(self, name: str | None) -> Title | None:
        """A title by name."""
        return next((t for t in self.titles if t.name == name), None)

    def index(self, name: str | None) -> int:
        """A title's position (lowest is 0); -1 for no title."""
        return next((i for i, t in enumerate(self.titles) if t.name == name), -1)

    def route(self, title: Title) -> RouteSpec:
        """The approval route for a target title's tier."""
        return self.routes[title.tier]

    def reading(self, name: str) -> tuple[Labels, Any]:
        """The label and condition of a setting's chosen reading."""
        setting = self.settings[name]
        choice = setting.choices[setting.chosen]
        return choice.label, choice.when

    def with_settings(self, **values: str) -> Scheme:
        """The scheme with other readings chosen (HR's what-if, and tests)."""
        settings = dict(self.settings)
        for name, value in values.items():
            if name not in settings:
                raise KeyError(f"unknown setting '{name}'")
            if value not in settings[name].choices:
                raise ValueError(f"'{value}' is not a reading of '{name}'")
            settings[name] = settings[name].model_copy(update={"value": value})
        return self.model_copy(update={"settings": settings})


def _parse_conditions(scheme: Scheme) -> tuple[Scheme, list[str]]:
    """Parse every `when` into a Condition, collecting problems with their paths."""
    from pydantic import ValidationError

    from app.assessments.datafile import loc_path
    from app.promotions.conditions import Condition

    problems: list[str] = []

    def parse(raw: Any, path: str) -> Any:
        if raw is None:
            return None
        try:
            return Condition.model_validate(raw)
        except ValidationError as exc:
            for item in exc.errors():
                sub = loc_path(tuple(item["loc"]))
                message = item["msg"].removeprefix("Value error, ")
                problems.append(f"{path}: {message}" if sub == "(top)"
                                else f"{path}.{sub}: {message}")
            return None

    quals = [q.model_copy(update={"when": parse(q.when, f"qualifications[{i}].when")})
             for i, q in enumerate(scheme.qualifications)]
    settings = {
        name: s.model_copy(update={"choices": {
            key: c.model_copy(update={"when": parse(c.when, f"settings.{name}.choices.{key}.when")})
            for key, c in s.choices.items()}})
        for name, s in scheme.settings.items()
    }
    blocks = [b.model_copy(update={"when": parse(b.when, f"blocks[{i}].when")})
              for i, b in enumerate(scheme.blocks)]
    caps = [c.model_copy(update={"when": parse(c.when, f"caps[{i}].when")})
            for i, c in enumerate(scheme.caps)]
    eligibility = {
        title: [r.model_copy(update={"when": parse(r.when, f"eligibility.{title}[{i}].when")})
                for i, r in enumerate(rules)]
        for title, rules in scheme.eligibility.items()
    }
    routes = {
        tier: r.model_copy(update={"via_supervising_branch": parse(
            r.via_supervising_branch, f"routes.{tier}.via_supervising_branch")})
        for tier, r in scheme.routes.items()
    }
    return scheme.model_copy(update={
        "qualifications": quals, "settings": settings, "blocks": blocks, "caps": caps,
        "eligibility": eligibility, "routes": routes}), problems


def _condition_sites(scheme: Scheme) -> list[tuple[str, Any, bool]]:
    """Every parsed condition with its path, and whether it sits inside a setting's choice."""
    sites: list[tuple[str, Any, bool]] = []
    sites += [(f"qualifications[{i}].when", q.when, False)
              for i, q in enumerate(scheme.qualifications)]
    for name, setting in scheme.settings.items():
        sites += [(f"settings.{name}.choices.{key}.when", c.when, True)
                  for key, c in setting.choices.items()]
    sites += [(f"blocks[{i}].when", b.when, False) for i, b in enumerate(scheme.blocks)]
    sites += [(f"caps[{i}].when", c.when, False) for i, c in enumerate(scheme.caps)]
    for title, rules in scheme.eligibility.items():
        sites += [(f"eligibility.{title}[{i}].when", r.when, False) for i, r in enumerate(rules)]
    sites += [(f"routes.{tier}.via_supervising_branch", r.via_supervising_branch, False)
              for tier, r in scheme.routes.items() if r.via_supervising_branch is not None]
    return [(path, cond, in_setting) for path, cond, in_setting in sites if cond is not None]


def _check_condition_names(scheme: Scheme, book: RuleBook) -> list[str]:
    problems = []
    annual_fields = book.annual_field_names()
    for site, condition, in_setting in _condition_sites(scheme):
        for path, c in condition.walk(site):
            if c.setting is not None:
                if in_setting:
                    problems.append(f"{path}.setting: a reading cannot refer to another setting")
                elif c.setting not in scheme.settings:
                    problems.append(f"{path}.setting: unknown setting '{c.setting}'")
            if c.fact is not None and c.fact.name not in scheme.facts and (
                    c.fact.name not in BUILTIN_FACTS):
                problems.append(f"{path}.fact.name: unknown fact '{c.fact.name}' (declare it "
                                f"under 'facts' or use {', '.join(BUILTIN_FACTS)})")
            if c.annual is not None and c.annual.field not in annual_fields:
                problems.append(f"{path}.annual.field: unknown field '{c.annual.field}' "
                                f"(known: {', '.join(sorted(annual_fields))})")
            if c.flag is not None and c.flag.name not in book.assessment.flags:
                problems.append(f"{path}.flag.name: unknown flag '{c.flag.name}' "
                                f"(known: {', '.join(book.assessment.flags)})")
    return problems


def _check_titles_and_settings(scheme: Scheme) -> list[str]:
    problems = []
    names = [t.name for t in scheme.titles]
    problems += [f"titles: '{n}' is listed twice" for n in sorted({n for n in names
                                                                    if names.count(n) > 1})]
    tiers = {t.tier for t in scheme.titles}
    problems += [f"titles[{i}].tier: no route for tier '{t.tier}' (add routes.{t.tier})"
                 for i, t in enumerate(scheme.titles) if t.tier not in scheme.routes]
    problems += [f"routes.{tier}: no title has tier '{tier}'" for tier in scheme.routes
                 if tier not in tiers]
    problems += [f"eligibility.{title}: unknown title" for title in scheme.eligibility
                 if title not in names]
    problems += [f"caps[{i}].highest: unknown title '{c.highest}'"
                 for i, c in enumerate(scheme.caps) if c.highest not in names]
    for name, setting in scheme.settings.items():
        if not re.match(NAME, name):
            problems.append(f"settings.{name}: setting names are lower_snake_case")
        if setting.default not in setting.choices:
            problems.append(f"settings.{name}.default: '{setting.default}' is not one of "
                            f"its choices ({', '.join(setting.choices)})")
        if setting.value is not None and setting.value not in setting.choices:
            problems.append(f"settings.{name}.value: '{setting.value}' is not one of "
                            f"its choices ({', '.join(setting.choices)})")
    rules = [q.rule for q in scheme.qualifications]
    problems += [f"qualifications: rule '{r}' is listed twice"
                 for r in sorted({r for r in rules if rules.count(r) > 1})]
    for name in scheme.facts:
        if not re.match(NAME, name) or name in BUILTIN_FACTS:
            problems.append(f"facts.{name}: fact names are lower_snake_case and not one of "
                            f"{', '.join(BUILTIN_FACTS)}")
    for tier, route in scheme.routes.items():
        if not route.application_kinds:
            problems.append(f"routes.{tier}.application_kinds: name at least one")
    return problems


def _check_routes(scheme: Scheme, workflows: dict[str, defs.WorkflowSpec],
                  vocabulary: defs.Vocabulary) -> list[str]:
    problems = []
    for tier, route in scheme.routes.items():
        where = f"routes.{tier}"
        spec = workflows.get(route.workflow)
        if spec is None:
            problems.append(f"{where}.workflow: no workflow file defines '{route.workflow}'")
            continue
        submit = spec.transition("submit", spec.initial)
        if submit is None:
            problems.append(f"{where}.workflow: '{route.workflow}' needs a 'submit' action "
                            f"from its initial state '{spec.initial}'")
        state = spec.states.get(route.appointed_state)
        if state is None or not state.terminal:
            problems.append(f"{where}.appointed_state: '{route.appointed_state}' is not a "
                            f"terminal state of '{route.workflow}'")
        for i, expr in enumerate(route.filing):
            try:
                parsed = actor_exprs.parse(expr)
            except ValueError as exc:
                problems.append(f"{where}.filing[{i}]: {exc}")
                continue
            if isinstance(parsed, actor_exprs.GroupRef):
                known = vocabulary.roles if parsed.kind == "role" else vocabulary.committees
                if parsed.name not in known:
                    problems.append(f"{where}.filing[{i}]: unknown {parsed.kind} "
                                    f"'{parsed.name}' in '{expr}'")
    return problems


def check_scheme(scheme: Scheme, book: RuleBook, workflows: dict[str, defs.WorkflowSpec],
                 vocabulary: defs.Vocabulary) -> list[str]:
    """Cross-reference checks: titles, tiers, settings, facts, fields, flags, workflows."""
    return (_check_titles_and_settings(scheme) + _check_condition_names(scheme, book)
            + _check_routes(scheme, workflows, vocabulary))


def parse_scheme(source_data: Any, origin: str, book: RuleBook,
                 workflows: dict[str, defs.WorkflowSpec], vocabulary: defs.Vocabulary) -> Scheme:
    """Validate a parsed scheme file; DefinitionError lists every problem as file: path: what."""
    scheme = parse_model(source_data, Scheme, origin)
    scheme, problems = _parse_conditions(scheme)
    if not problems:
        problems = check_scheme(scheme, book, workflows, vocabulary)
    if problems:
        raise DefinitionError([f"{origin}: {p}" for p in problems])
    return scheme


def _workflow_specs(directory: Path) -> dict[str, defs.WorkflowSpec]:
    specs = {}
    for path in defs.workflow_files(directory):
        try:
            spec = defs.parse_shape(path.read_text(encoding="utf-8"), path.name)
        except (OSError, DefinitionError):
            continue  # the workflow checker reports broken workflow files
        specs[spec.workflow] = spec
    return specs


def scheme_files(directory: Path) -> list[Path]:
    """The scheme files below a workflows directory."""
    return first_key_files(directory, "scheme")


@lru_cache(maxsize=16)
def _load(directory: str, _signature: tuple[tuple[str, int, int], ...]) -> dict[str, Scheme]:
    root = Path(directory)
    if not scheme_files(root):
        return {}
    book = load_rules(root)
    workflows = _workflow_specs(root)
    vocab_path = root / "organisation.yaml"
    vocabulary = (defs.load_vocabulary(vocab_path) if vocab_path.exists()
                  else defs.Vocabulary({}, {}))
    schemes: dict[str, Scheme] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    for path in scheme_files(root):
        origin = str(path.relative_to(root))
        try:
            scheme = parse_scheme(read_yaml(path, origin), origin, book, workflows, vocabulary)
        except DefinitionError as exc:
            problems += exc.problems
            continue
        if scheme.scheme in schemes:
            problems.append(f"{origin}: scheme: '{scheme.scheme}' is already defined in "
                            f"{origins[scheme.scheme]}")
            continue
        schemes[scheme.scheme] = scheme
        origins[scheme.scheme] = origin
    if problems:
        raise DefinitionError(problems)
    return schemes


def load_schemes(directory: Path) -> dict[str, Scheme]:
    """Every scheme of a workflows directory, checked (re-read when any rule file changes)."""
    paths = sorted(directory.rglob("*.yaml"))
    return _load(str(directory.resolve()), signature(paths))


def check_directory(directory: Path) -> list[str]:
    """Every problem of the assessment rule files and scheme files of a workflows directory.

    For `stepwise workflows check` and start-up: [] when all is well (or there are none).
    """
    from app.assessments.datafile import first_key_files

    problems: list[str] = []
    if first_key_files(directory, "assessment_rules") or first_key_files(directory,
                                                                          "star_rating"):
        try:
            load_rules(directory)
        except DefinitionError as exc:
            problems += exc.problems
    if not problems:
        try:
            load_schemes(directory)
        except DefinitionError as exc:
            problems += exc.problems
    return problems


def schemes_of(registry: Any = None) -> dict[str, Scheme]:
    """The schemes of the registry in use (the engine's default when none is given)."""
    from app.assessments.rules import rules_dir

    return load_schemes(rules_dir(registry))


def get_scheme(name: str, registry: Any = None) -> Scheme:
    """One scheme by name."""
    scheme = schemes_of(registry).get(name)
    if scheme is None:
        raise NotFound("No promotion scheme named '{name}'.", name=name)
    return scheme
