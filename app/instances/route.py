"""A case's route as a simple stepper: the workflow's main path, where the case stands on it,
and the side exits (send-back, rejection, cancellation…) listed apart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.engine.definitions import Condition, TransitionSpec, WorkflowSpec
from app.i18n import pick_label


@dataclass
class RouteStep:
    """One step of the stepper: done (ticked), current, ahead, or the end the case reached."""

    state: str
    label: str
    status: str  # "done", "current", "ahead", "finished" (a good end) or "stopped" (any other)


@dataclass
class RouteView:
    """The stepper and what lies off it."""

    steps: list[RouteStep] = field(default_factory=list)
    side_exits: list[str] = field(default_factory=list)
    position: int = 0  # 1-based number of the current step

    @property
    def current(self) -> RouteStep | None:
        """The step the case stands on."""
        return self.steps[self.position - 1] if self.position else None


def _context_value(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _likely(when: Any, spec: WorkflowSpec, context: dict[str, Any]) -> bool:
    """Whether a route is the one a case normally takes.

    A route decided by a form field (the reviewer's outcome) is the file's first, wished-for
    branch; a route on the case's context is decided by the data the case already carries.
    A named guard cannot be judged ahead, so its route is not assumed.
    """
    if not isinstance(when, Condition):
        return False
    if when.field is not None:
        return True
    value = _context_value(context, when.context or "")
    if when.equals is not None:
        return value == when.equals
    if when.in_ is not None:
        return value in when.in_
    bound = when.gte if when.gte is not None else when.lte
    if isinstance(bound, str):
        bound = spec.parameters.get(bound.removeprefix("$"))
    try:
        number, limit = float(value), float(bound)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return number >= limit if when.gte is not None else number <= limit


def _next_state(spec: WorkflowSpec, t: TransitionSpec, context: dict[str, Any]) -> str:
    if t.dest:
        return t.dest
    for route in t.routes[:-1]:
        if _likely(route.when, spec, context):
            return route.dest
    return t.routes[-1].dest


def main_path(spec: WorkflowSpec, start: str, context: dict[str, Any]) -> list[str]:
    """The states a case passes from `start` when everyone takes the expected action."""
    path = [start]
    while not spec.states[path[-1]].terminal:
        forward = [t for t in spec.transitions_from(path[-1]) if not t.optional]
        if not forward:
            break
        following = _next_state(spec, forward[0], context)
        if following in path:
            break
        path.append(following)
    return path


def route_view(spec: WorkflowSpec, state: str, context: dict[str, Any], visited: Iterable[str],
               locale: str) -> RouteView:
    """The stepper of a case standing in `state`, having passed through `visited` states."""
    if state not in spec.states or spec.initial not in spec.states:
        return RouteView()
    main = main_path(spec, spec.initial, context)
    if state in main:
        names, position = main, main.index(state)
    else:  # a side state: shown after the last main step the case passed through
        seen = set(visited)
        last = max((i for i, name in enumerate(main) if name in seen), default=0)
        ahead = [] if spec.states[state].terminal else [
            s for s in main_path(spec, state, context)[1:] if s not in main[: last + 1]]
        names, position = [*main[: last + 1], state, *ahead], last + 1
    steps = []
    for i, name in enumerate(names):
        status = "done" if i < position else "ahead" if i > position else "current"
        if status == "current" and spec.states[name].terminal:
            status = "finished" if name in main else "stopped"
        steps.append(RouteStep(name, pick_label(spec.states[name].label, locale), status))
    side = [pick_label(s.label, locale) for name, s in spec.states.items() if name not in names]
    return RouteView(steps, side, position + 1)
