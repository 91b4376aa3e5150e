"""The names workflow files may use as guards, and the functions registered under them.

Kept apart from the guards themselves so the definition loader can check names without
importing what a guard looks at (the loader is below the guards, not beside them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from app.i18n import Message

GuardFn = Callable[[Any], Message | None]  # takes an app.engine.guards.GuardContext
GUARDS: dict[str, GuardFn] = {}

# The engine's own guards and every domain package's guards (and state hooks) register when
# imported; the loader imports them all so static checks know every name before any file.
GUARD_MODULES = ("app.engine.guards", "app.plans.guards", "app.plans.hooks",
                 "app.promotions.guards")


def guard(name: str) -> Callable[[GuardFn], GuardFn]:
    """Register a guard under the name workflow files use; it returns None or why not."""

    def register(fn: GuardFn) -> GuardFn:
        GUARDS[name] = fn
        return fn

    return register


def load_domain_guards() -> None:
    """Import every guard module that exists."""
    for module in GUARD_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not module.startswith(exc.name or "\0"):
                raise
