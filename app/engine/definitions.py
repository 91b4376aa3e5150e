"""Workflow definition language: parse a YAML file, validate its shape, run static checks."""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.engine import actors as actor_exprs
from app.engine.guard_names import GUARDS, load_domain_guards
from app.errors import DefinitionError

NAME_RE = r"^[a-z][a-z0-9_]*$"
Labels = dict[Literal["en", "zh"], str]


class Strict(BaseModel):
    """Definition blocks refuse unknown keys so typos surface as errors, not silence."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _require_both_languages(labels: dict[str, str]) -> dict[str, str]:
    missing = [key for key in ("en", "zh") if not (labels.get(key) or "").strip()]
    if missing:
        raise ValueError(f"label needs both 'en' and 'zh' (missing: {', '.join(missing)})")
    return labels


class Escalation(Strict):
    """One rung of an escalation ladder: who hears about it after how many working days."""

    after_working_days: Annotated[int, Field(ge=0, le=365)]
    to: str


class DeadlinePolicy(Strict):
    """When a state's task is due, when to remind, and whom to escalate to."""

    due_in_working_days: Annotated[int, Field(ge=0, le=365)] | None = None
    due_on_field: str | None = None
    remind_before: list[Annotated[int, Field(ge=1, le=60)]] = []
    remind_on_due: bool = True
    remind_every_overdue: Annotated[int, Field(ge=1, le=60)] | None = None
    escalate: list[Escalation] = []

    @model_validator(mode="after")
    def _one_due_rule(self) -> DeadlinePolicy:
        if (self.due_in_working_days is None) == (self.due_on_field is None):
            raise ValueError("give exactly one of 'due_in_working_days' or 'due_on_field'")
        return self


class FieldSpec(Strict):
    """A form field an action collects (reason, outcome, decision date…)."""

    type: Literal["text", "textarea", "choice", "date", "number", "bool"] = "text"
    label: Labels
    required: bool = False
    max_length: Annotated[int, Field(ge=1, le=100_000)] = 2000
    min: float | None = None
    max: float | None = None
    choices: dict[str, Labels] = {}
    help: Labels | None = None

    _labels = field_validator("label")(_require_both_languages)

    @model_validator(mode="after")
    def _choices_for_choice(self) -> FieldSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError("a 'choice' field needs 'choices'")
        if self.type != "choice" and self.choices:
            raise ValueError("'choices' is only for fields of type 'choice'")
        return self


class Condition(Strict):
    """A data condition on a form field or an instance context value.

    A bound written as "$name" is read from the workflow's `parameters` block.
    """

    field: str | None = None
    context: str | None = None
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    gte: float | str | None = None
    lte: float | str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_subject(self) -> Condition:
        if (self.field is None) == (self.context is None):
            raise ValueError("a condition names exactly one of 'field' or 'context'")
        ops = [self.equals is not None, self.in_ is not None, self.gte is not None,
               self.lte is not None]
        if sum(ops) == 0:
            raise ValueError("a condition needs one of 'equals', 'in', 'gte', 'lte'")
        return self


When = str | Condition


class Route(Strict):
    """One branch of a conditional transition; the first whose condition holds is taken."""

    dest: str
    when: When | None = None


class SignOffSpec(Strict):
    """A signature the transition needs; `agree_or_acknowledge` lets the signer disagree."""

    signer: str
    meaning: Literal["agree", "acknowledge", "agree_or_acknowledge"] = "agree"

    @property
    def meanings(self) -> list[str]:
        """The meanings a signer may choose."""
        if self.meaning == "agree_or_acknowledge":
            return ["agree", "acknowledge"]
        return [self.meaning]


class TransitionSpec(Strict):
    """An action: who may take it from which states, what it needs, and where it leads."""

    trigger: Annotated[str, Field(pattern=NAME_RE, max_length=60)]
    label: Labels  # what happened, as the history says it ("Gap recorded")
    verb: Labels | None = None  # what the button does ("Submit the gaps"); the label if absent
    source: str | list[str]
    dest: str | None = None
    routes: list[Route] = []
    actors: list[str] = Field(min_length=1)
    guards: list[str] = []
    form: list[str] = []
    sign_offs: list[SignOffSpec] = []
    optional: bool = False
    style: Literal["primary", "secondary", "danger"] = "primary"

    _labels = field_validator("label")(_require_both_languages)

    @field_validator("verb")
    @classmethod
    def _verb_in_both_languages(cls, verb: dict[str, str] | None) -> dict[str, str] | None:
        return None if verb is None else _require_both_languages(verb)

    @property
    def button(self) -> dict[str, str]:
        """The words on the action's button: its verb, else its label."""
        return dict(self.verb or self.label)

    @model_validator(mode="after")
    def _dest_or_routes(self) -> TransitionSpec:
        if (self.dest is None) == (not self.routes):
            raise ValueError("give exactly one of 'dest' or 'routes'")
        if self.routes and self.routes[-1].when is not None:
            raise ValueError("the last route must have no 'when' (the fallback)")
        if any(route.when is None for route in self.routes[:-1]):
            raise ValueError("only the last route may omit 'when'")
        return self

    @property
    def sources(self) -> list[str]:
        """Source states as a list ('*' stays as is)."""
        return [self.source] if isinstance(self.source, str) else list(self.source)

    @property
    def destinations(self) -> list[str]:
        """Every state this action can lead to."""
        return [self.dest] if self.dest else [route.dest for route in self.routes]


class StateSpec(Strict):
    """A state: its labels, whether it ends the workflow, and its deadline policy."""

    label: Labels
    terminal: bool = False
    deadline: DeadlinePolicy | None = None
    description: Labels | None = None

    _labels = field_validator("label")(_require_both_languages)


class WorkflowSpec(Strict):
    """A whole workflow definition file."""

    workflow: Annotated[str, Field(pattern=NAME_RE, max_length=60)]
    label: Labels
    description: Labels | None = None
    initial: str
    parameters: dict[str, int | float | str | bool] = {}
    fields: dict[str, FieldSpec] = {}
    states: dict[str, StateSpec] = Field(min_length=2)
    transitions: list[TransitionSpec] = Field(min_length=1)

    _labels = field_validator("label")(_require_both_languages)

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        """The actions possible in a state, in file order ('*' means every non-terminal state)."""
        if self.states[state].terminal:
            return []
        return [t for t in self.transitions if state in t.sources or "*" in t.sources]

    def source_states(self, t: TransitionSpec) -> list[str]:
        """The states an action may start from, '*' expanded to every non-terminal state."""
        if "*" in t.sources:
            return [name for name, s in self.states.items() if not s.terminal]
        return t.sources

    def transition(self, trigger: str, state: str | None = None) -> TransitionSpec | None:
        """The action with this trigger name (from this state, when one is given)."""
        candidates = [t for t in self.transitions if t.trigger == trigger]
        if state is not None:
            return next((t for t in candidates if state in self.source_states(t)), None)
        return candidates[0] if candidates else None


@dataclass(frozen=True)
class Vocabulary:
    """Known role and committee names (workflows/organisation.yaml)."""

    roles: dict[str, dict[str, str]]
    committees: dict[str, dict[str, str]]


@dataclass(frozen=True)
class LoadedDefinition:
    """A validated definition with where it came from and its content hash."""

    spec: WorkflowSpec
    source: str
    content_hash: str
    origin: str


def content_hash(source: str) -> str:
    """SHA-256 of the definition text: equal text, equal version."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"str", "Condition", "list[str]", "function-after[_one_subject(), Condition]"}:
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top)"


def _format_validation(origin: str, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        if item["type"] == "union_tag_invalid":
            continue
        path = _loc_path(tuple(p for p in item["loc"] if not str(p).startswith("function-")))
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{origin}: {path}: {message}")
    return sorted(set(problems), key=problems.index)


def load_vocabulary(path: Path) -> Vocabulary:
    """Read the role and committee names a workflow may route to."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError([f"{path.name}: cannot read vocabulary: {exc}"]) from exc
    return Vocabulary(roles=data.get("roles") or {}, committees=data.get("committees") or {})


def parse_shape(source: str, origin: str) -> WorkflowSpec:
    """Parse a definition's text and validate its shape (no cross-reference checks)."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([f"{origin}: {where}malformed YAML: {problem}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError([f"{origin}: (top): a workflow file must be a mapping"])
    try:
        return WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(_format_validation(origin, exc)) from exc


def parse(source: str, origin: str, vocabulary: Vocabulary) -> LoadedDefinition:
    """Parse, validate and statically check a definition; errors name file and path."""
    spec = parse_shape(source, origin)
    problems = static_check(spec, vocabulary)
    if problems:
        raise DefinitionError([f"{origin}: {p}" for p in problems])
    return LoadedDefinition(spec, source, content_hash(source), origin)


def load_file(path: Path, vocabulary: Vocabulary) -> LoadedDefinition:
    """Parse one definition file."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError([f"{path.name}: cannot read: {exc.strerror}"]) from exc
    return parse(source, path.name, vocabulary)


def is_workflow_file(path: Path) -> bool:
    """Workflow files are the YAML files whose first key is `workflow:`."""
    try:
        head = path.read_text(encoding="utf-8")[:2000]
    except OSError:
        return False
    return re.search(r"^workflow\s*:", head, re.MULTILINE) is not None


def workflow_files(directory: Path) -> list[Path]:
    """Every workflow definition file below a directory, sorted."""
    return sorted(p for p in directory.rglob("*.yaml") if is_workflow_file(p))


def _check_actor(expr: str, where: str, vocabulary: Vocabulary) -> list[str]:
    try:
        parsed = actor_exprs.parse(expr)
    except ValueError as exc:
        return [f"{where}: {exc}"]
    if isinstance(parsed, actor_exprs.GroupRef):
        known = vocabulary.roles if parsed.kind == "role" else vocabulary.committees
        if parsed.name not in known:
            return [f"{where}: unknown {parsed.kind} '{parsed.name}' in '{expr}'"]
    return []


def _check_when(when: When | None, where: str, spec: WorkflowSpec, form: list[str]) -> list[str]:
    if when is None:
        return []
    if isinstance(when, str):
        return [] if when in GUARDS else [f"{where}: unknown guard '{when}'"]
    for bound in (when.gte, when.lte):
        if isinstance(bound, str):
            name = bound.removeprefix("$")
            if not bound.startswith("$") or name not in spec.parameters:
                return [f"{where}: '{bound}' is not a number or a $parameter of this workflow"]
    if when.field is not None:
        if when.field not in spec.fields:
            return [f"{where}: unknown field '{when.field}'"]
        if when.field not in form:
            return [f"{where}: field '{when.field}' is not in this action's form"]
        choices = spec.fields[when.field].choices
        values = ([when.equals] if when.equals is not None else []) + list(when.in_ or [])
        bad = [v for v in values if choices and v not in choices]
        if bad:
            return [f"{where}: '{bad[0]}' is not a choice of field '{when.field}'"]
    return []


def static_check(spec: WorkflowSpec, vocabulary: Vocabulary) -> list[str]:
    """Names resolve, every state is reachable, and every state can still reach an end."""
    load_domain_guards()
    problems: list[str] = []
    states = spec.states
    if spec.initial not in states:
        problems.append(f"initial: unknown state '{spec.initial}'")
    for name, state in states.items():
        if not re.match(NAME_RE, name):
            problems.append(f"states.{name}: state names are lower_snake_case")
        policy = state.deadline
        if policy:
            if state.terminal:
                problems.append(f"states.{name}.deadline: a terminal state has no deadline")
            if policy.due_on_field and policy.due_on_field not in spec.fields:
                problems.append(
                    f"states.{name}.deadline.due_on_field: unknown field '{policy.due_on_field}'"
                )
            for i, rung in enumerate(policy.escalate):
                problems += _check_actor(
                    rung.to, f"states.{name}.deadline.escalate[{i}].to", vocabulary
                )
    for name in spec.fields:
        if not re.match(NAME_RE, name):
            problems.append(f"fields.{name}: field names are lower_snake_case")
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(spec.transitions):
        where = f"transitions[{i}] ({t.trigger})"
        for source in t.sources:
            if source != "*" and source not in states:
                problems.append(f"{where}.source: unknown state '{source}'")
            elif source != "*" and states[source].terminal:
                problems.append(f"{where}.source: '{source}' is terminal and cannot be left")
            key = (t.trigger, source)
            if key in seen:
                problems.append(f"{where}: trigger '{t.trigger}' is defined twice for '{source}'")
            seen[key] = i
        for dest in t.destinations:
            if dest not in states:
                problems.append(f"{where}.dest: unknown state '{dest}'")
        for j, route in enumerate(t.routes):
            problems += _check_when(route.when, f"{where}.routes[{j}].when", spec, t.form)
        for j, expr in enumerate(t.actors):
            problems += _check_actor(expr, f"{where}.actors[{j}]", vocabulary)
        for j, guard in enumerate(t.guards):
            if guard not in GUARDS:
                problems.append(f"{where}.guards[{j}]: unknown guard '{guard}'")
        for j, field_name in enumerate(t.form):
            if field_name not in spec.fields:
                problems.append(f"{where}.form[{j}]: unknown field '{field_name}'")
        for j, sign_off in enumerate(t.sign_offs):
            problems += _check_actor(sign_off.signer, f"{where}.sign_offs[{j}].signer", vocabulary)
            if sign_off.signer not in t.actors:
                problems.append(
                    f"{where}.sign_offs[{j}].signer: '{sign_off.signer}' must also be an actor"
                )
        if t.sign_offs and t.routes:
            problems.append(f"{where}: an action cannot have both 'sign_offs' and 'routes'")
    if problems:
        return problems
    problems += _reachability(spec)
    return problems


def _successors(spec: WorkflowSpec, state: str) -> set[str]:
    return {dest for t in spec.transitions_from(state) for dest in t.destinations}


def _reachability(spec: WorkflowSpec) -> list[str]:
    problems = []
    reached = {spec.initial}
    queue = deque([spec.initial])
    while queue:
        for nxt in _successors(spec, queue.popleft()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for name in spec.states:
        if name not in reached:
            problems.append(f"states.{name}: unreachable from initial state '{spec.initial}'")
    terminals = {name for name, s in spec.states.items() if s.terminal}
    if not terminals:
        return problems + ["states: no terminal state (mark at least one 'terminal: true')"]
    for name, state in spec.states.items():
        if state.terminal:
            continue
        seen = {name}
        queue = deque([name])
        found = False
        while queue and not found:
            for nxt in _successors(spec, queue.popleft()):
                if nxt in terminals:
                    found = True
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        if not found:
            problems.append(f"states.{name}: no terminal state can be reached from here")
    return problems
