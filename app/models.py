"""Imports every table model so that metadata (alembic, create_all) sees the whole schema."""

from __future__ import annotations


def load_all_models() -> None:
    """Import each domain's models module."""
    import importlib

    for module in MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not module.startswith(exc.name or "\0"):
                raise


MODEL_MODULES = (
    "app.org.models",
    "app.engine.models",
    "app.auth.models",
    "app.plans.models",
    "app.promotions.models",
    "app.assessments.models",
    "app.reminders.models",
    "app.notifications.models",
    "app.calendar.models",
    "app.reports.models",
    "app.observability.models",
)
