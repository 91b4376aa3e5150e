"""Route conditions: a named guard, or a data test on a form field or the instance context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.engine.guards import GUARDS, GuardContext


def condition_holds(when: Any, ctx: GuardContext) -> bool:
    """Whether a route's `when` holds for this action."""
    if isinstance(when, str):
        return GUARDS[when](ctx) is None
    value = ctx.payload.get(when.field) if when.field else _context_value(ctx, when.context)
    if when.equals is not None and value != when.equals:
        return False
    if when.in_ is not None and value not in when.in_:
        return False
    gte = _bound(when.gte, ctx)
    lte = _bound(when.lte, ctx)
    try:
        if gte is not None and (value is None or float(value) < gte):
            return False
        if lte is not None and (value is None or float(value) > lte):
            return False
    except (TypeError, ValueError):
        return False
    return True


def _bound(bound: float | str | None, ctx: GuardContext) -> float | None:
    """A numeric bound, reading "$name" from the workflow's parameters."""
    if isinstance(bound, str):
        return float(ctx.spec.parameters[bound.removeprefix("$")])
    return bound


def _context_value(ctx: GuardContext, path: str) -> Any:
    value: Any = ctx.instance.context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def route_condition(when: Any) -> Callable[[Any], bool]:
    """A condition callable for the transitions Machine (send_event=True passes EventData)."""

    def check(event: Any) -> bool:
        return condition_holds(when, event.kwargs["ctx"])

    return check
