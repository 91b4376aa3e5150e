"""Promotion schemes as data (workflows/promotion/*.yaml, first key `scheme:`): load and check.

A scheme names its titles in order (lowest first) with their tier, staff grade and the bank's
own names for them (aliases), the application window, the facts an application declares, the
qualification conditions (hard or "generally"), the ambiguous readings as named settings, the
blocks, caps and per-title entry rules, what skip-level means in it, for every tier the workflow
that carries the request (the approval route), the routes out of the titles (exits), and the
staffing-quota formula where the scheme has one.
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
from app.promotions.staffing import StaffingFormula

NAME = r"^[a-z][a-z0-9_]*$"
MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
KINDS = ("self_application", "nomination")
BUILTIN_FACTS: dict[str, Message] = {
    "outstanding_contribution": Message("Outstanding contribution"),
    "in_subordinate_branch": Message("Works in a subordinate branch"),
    "application_kind": Message("How the application was started"),
    "skip_level": Message("Skip-level"),
}


class Title(Strict):
    """A grade or professional title of the scheme."""

    name: Annotated[str, Field(pattern=NAME, max_length=60)]
    label: Labels
    tier: Annotated[str, Field(pattern=NAME, max_length=60)]
    staff_grade: Annotated[int, Field(ge=1, le=30)] | None = None
    aliases: list[Annotated[str, Field(min_length=1, max_length=40)]] = []

    _labels = field_validator("label")(check_labels)

    def names(self) -> list[str]:
        """Every name the bank may use for the title: its key, both labels, its aliases."""
        return [self.name, self.label["zh"], self.label["en"], *self.aliases]


def name_key(text: str) -> str:
    """A title name compared loosely: case, spaces and full-width spaces do not matter."""
    return re.sub(r"[\s\u3000]+", "", text).casefold()


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


class YearRange(Strict):
    """Assessment years a rule covers (both ends inclusive; an open end has no limit)."""

    from_: Annotated[int, Field(ge=1990, le=2100)] | None = Field(default=None, alias="from")
    to: Annotated[int, Field(ge=1990, le=2100)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError("'from' must not be after 'to'")
        return self

    def covers(self, year: int) -> bool:
        """Whether the rule applies to an assessment year."""
        return (self.from_ is None or year >= self.from_) and (self.to is None or year <= self.to)


class Rule(Strict):
    """A cited rule: id, words, the condition, and the assessment years it covers."""

    rule: Annotated[str, Field(min_length=1, max_length=20)]
    label: Labels
    when: Any
    years: YearRange | None = None

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


class SkipLevel(Strict):
    """What skip-level (越级高聘) means in a scheme, with the clause it comes from.

    A title more than one step above the current one is skip-level. `allowed: false` refuses
    it; otherwise the application must meet `requires` (a condition of the rule language) and,
    with `justification: true`, give a written justification. `first_appointment` says which
    titles count as one step for someone holding none: the lowest, any, or the listed ones.
    """

    rule: Annotated[str, Field(min_length=1, max_length=20)]
    label: Labels
    source: str = ""
    allowed: bool = True
    requires: Any = None  # a Condition, parsed after the shape check
    justification: bool = True
    first_appointment: Literal["lowest", "any"] | list[str] = "lowest"

    _labels = field_validator("label")(check_labels)


class ExitSpec(Strict):
    """A route out of the scheme's titles (e.g. leaving the customer-manager team)."""

    workflow: Annotated[str, Field(pattern=NAME, max_length=60)]
    label: Labels
    application_kinds: list[Literal["self_application", "nomination"]] = ["nomination"]
    reasons: dict[str, Labels] = Field(min_length=1)
    left_state: str = "approved"
    effective_date_field: str = "effective_date"

    _labels = field_validator("label")(check_labels)


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
    skip_level: SkipLevel | None = None  # None: titles are rated, not climbed step by step
    routes: dict[str, RouteSpec] = Field(min_length=1)
    exits: dict[str, ExitSpec] = {}
    staffing: StaffingFormula | None = None

    _labels = field_validator("label")(check_labels)

    def title(self, name: str | None) -> Title | None:
        """A title by name."""
        return next((t for t in self.titles if t.name == name), None)

    def title_named(self, text: str) -> Title | None:
        """The title the bank calls `text` (its key, a label or an alias; loosely compared)."""
        wanted = name_key(text)
        return next((t for t in self.titles if wanted in {name_key(n) for n in t.names()}),
                    None)

    def is_skip_level(self, current: Title | None, target: Title) -> bool:
        """Whether moving from the current title to the target skips a title.

        For someone with no title, the titles `skip_level.first_appointment` names are one
        step; without a skip-level rule nothing is skip-level (titles are rated, not climbed).
        """
        rule = self.skip_level
        if rule is None:
            return False
        position = self.index(target.name)
        if current is not None:
            return position - self.index(current.name) > 1
        if rule.first_appointment == "any":
            return False
        if rule.first_appointment == "lowest":
            return position > 0
        return target.name not in rule.first_appointment

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
    skip = scheme.skip_level
    if skip is not None:
        skip = skip.model_copy(update={"requires": parse(skip.requires, "skip_level.requires")})
    return scheme.model_copy(update={
        "qualifications": quals, "settings": settings, "blocks": blocks, "caps": caps,
        "eligibility": eligibility, "routes": routes, "skip_level": skip}), problems


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
    if scheme.skip_level is not None and scheme.skip_level.requires is not None:
        sites.append(("skip_level.requires", scheme.skip_level.requires, False))
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
    problems += _check_aliases(scheme)
    if scheme.skip_level is not None and isinstance(scheme.skip_level.first_appointment, list):
        problems += [f"skip_level.first_appointment: unknown title '{n}'"
                     for n in scheme.skip_level.first_appointment if n not in names]
    return problems


def _check_aliases(scheme: Scheme) -> list[str]:
    """No name (key, label or alias) may stand for two titles of one scheme."""
    problems = []
    owner: dict[str, str] = {}
    for i, title in enumerate(scheme.titles):
        for name in dict.fromkeys(name_key(n) for n in title.names()):
            if name in owner and owner[name] != title.name:
                problems.append(f"titles[{i}]: '{name}' names both '{owner[name]}' and "
                                f"'{title.name}' (keys, labels and aliases must differ)")
            owner.setdefault(name, title.name)
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


def _check_exits(scheme: Scheme, workflows: dict[str, defs.WorkflowSpec]) -> list[str]:
    problems = []
    for key, exit_ in scheme.exits.items():
        where = f"exits.{key}"
        if not re.match(NAME, key):
            problems.append(f"{where}: exit names are lower_snake_case")
        spec = workflows.get(exit_.workflow)
        if spec is None:
            problems.append(f"{where}.workflow: no workflow file defines '{exit_.workflow}'")
            continue
        if spec.transition("submit", spec.initial) is None:
            problems.append(f"{where}.workflow: '{exit_.workflow}' needs a 'submit' action "
                            f"from its initial state '{spec.initial}'")
        state = spec.states.get(exit_.left_state)
        if state is None or not state.terminal:
            problems.append(f"{where}.left_state: '{exit_.left_state}' is not a terminal state "
                            f"of '{exit_.workflow}'")
        field = spec.fields.get(exit_.effective_date_field)
        if field is None or field.type != "date":
            problems.append(f"{where}.effective_date_field: '{exit_.effective_date_field}' is "
                            f"not a date field of '{exit_.workflow}'")
        if not exit_.application_kinds:
            problems.append(f"{where}.application_kinds: name at least one")
    return problems


def check_scheme(scheme: Scheme, book: RuleBook, workflows: dict[str, defs.WorkflowSpec],
                 vocabulary: defs.Vocabulary) -> list[str]:
    """Cross-reference checks: titles, tiers, settings, facts, fields, flags, workflows."""
    return (_check_titles_and_settings(scheme) + _check_condition_names(scheme, book)
            + _check_routes(scheme, workflows, vocabulary) + _check_exits(scheme, workflows))


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
        raise NotFound("There is no promotion scheme '{name}'.", name=name)
    return scheme
