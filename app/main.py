"""The web application: routers, sessions, CSRF, error mapping, and the start-up hooks."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp

from app import clock
from app.config import PROJECT_ROOT, Settings, get_settings
from app.db import make_engine, make_replica_engine, transaction
from app.engine import audit, calendar, runtime
from app.engine.registry import Registry
from app.models import load_all_models
from app.observability import actions as observed_actions
from app.observability.logs import configure_logging
from app.observability.requests import RequestTracking
from app.reminders import hooks as reminder_hooks
from app.web.csrf import verify_csrf
from app.web.errors import install_error_handlers
from app.web.ids import check_path_ids
from app.web.input import refuse_control_characters
from app.web.openapi import install_openapi, operation_id
from app.web.ratelimit import rate_limit
from app.web.security_headers import SecurityHeaders
from app.web.sessions import install_sessions
from app.web.uploads import BodyLimits

log = logging.getLogger("stepwise")

STATIC_DIR = PROJECT_ROOT / "app" / "static"

# Each module that exists and exposes `router` is mounted; a domain adds its routes by adding
# a module here, not by editing create_app.
ROUTER_MODULES = (
    "app.auth.views",
    "app.auth.account_views",
    "app.auth.routes",
    "app.dossier.views",
    "app.tasks.routes",
    "app.tasks.views",
    "app.workflows_web.routes",
    "app.workflows_web.views",
    "app.instances.routes",
    "app.instances.views",
    "app.org.routes",
    "app.org.views",
    "app.plans.routes",
    "app.plans.views",
    "app.plans.checkpoint_pages",
    "app.promotions.routes",
    "app.promotions.views",
    "app.promotions.exit_routes",
    "app.promotions.exit_views",
    "app.promotions.staffing_routes",
    "app.promotions.staffing_views",
    "app.promotions.title_routes",
    "app.assessments.routes",
    "app.assessments.views",
    "app.reminders.routes",
    "app.reminders.views",
    "app.notifications.routes",
    "app.notifications.views",
    "app.calendar.views",
    "app.delegations.routes",
    "app.delegations.views",
    "app.reports.routes",
    "app.reports.views",
    "app.observability.views",
)


def start_background_jobs(app: FastAPI) -> None:
    """Start the sweep (reminders, escalations, outbox) unless settings turn it off."""
    app.state.scheduler = None
    settings = app.state.settings
    if settings.scheduler_enabled:
        from app.reminders.jobs import background_scheduler

        app.state.scheduler = background_scheduler(app.state.engine, settings,
                                                   app.state.registry)


def stop_background_jobs(app: FastAPI) -> None:
    """Stop whatever `start_background_jobs` started."""
    scheduler = getattr(app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
        app.state.scheduler = None


def sync_definitions(app: FastAPI) -> None:
    """Store a version for every new or changed workflow file, in one transaction.

    Workers starting together race to store the same new version: the loser reads the
    winner's row on its second try instead of failing its start-up.
    """
    for attempt in (1, 2):
        try:
            with transaction(app.state.engine) as session:
                app.state.registry.sync(session)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def warn_unrouted(app: FastAPI) -> None:
    """Log every step that would wait on nobody in the organisation (HR sees them too)."""
    from app.assessments.wording import localise
    from app.promotions import reach

    registry = app.state.registry
    with transaction(app.state.engine) as session:
        gaps = reach.check(session, registry)
    for gap in gaps:
        log.warning("a step reaches nobody: %s", localise(
            reach.describe(gap, registry.vocabulary, "en", with_expression=True), "en"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: sync workflow definitions, warn of steps that reach nobody, start background
    jobs; shutdown: stop them."""
    sync_definitions(app)
    warn_unrouted(app)
    start_background_jobs(app)
    try:
        yield
    finally:
        stop_background_jobs(app)
        if app.state.owns_engine:
            app.state.engine.dispose()
        if app.state.replica_engine is not None:
            app.state.replica_engine.dispose()


def _include_routers(app: FastAPI) -> None:
    for module_name in ROUTER_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if module_name.startswith(exc.name or "\0"):
                continue
            raise
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)


class StepwiseApp(FastAPI):
    """FastAPI with request tracking outside everything, even the error middleware, so that a
    500 too carries its request id and is logged and counted."""

    def build_middleware_stack(self) -> ASGIApp:
        """The usual stack, wrapped in RequestTracking."""
        return RequestTracking(super().build_middleware_stack())


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the application for the given settings and database (defaults: the environment)."""
    settings = settings or get_settings()
    configure_logging(settings)
    load_all_models()
    observed_actions.install()  # count committed workflow actions for /metrics
    clock.set_timezone(settings.timezone)
    registry = Registry(settings.workflows_dir)
    registry.load()  # a broken workflow file stops start-up with every problem listed
    runtime.set_registry(registry)
    audit.use_keys(audit.keyring_from(settings))  # events are sealed with the settings' key
    reminder_hooks.install()  # due dates on the working-day calendar, timers, final results
    calendar.share_for(settings.calendar_share_seconds)

    app = StepwiseApp(
        title="Stepwise",
        summary="Workflow and approval engine for the performance-improvement cycle",
        version="0.1.0",
        debug=False,
        lifespan=lifespan,
        dependencies=[Depends(check_path_ids), Depends(verify_csrf), Depends(rate_limit),
                      Depends(refuse_control_characters)],
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.owns_engine = engine is None
    app.state.engine = engine if engine is not None else make_engine(settings.database_url)
    app.state.registry = registry
    app.state.replica_engine = (make_replica_engine(settings.database_replica_url)
                                if settings.database_replica_url else None)
    app.state.started_at = clock.now()

    install_sessions(app, settings)
    app.add_middleware(SecurityHeaders, hsts=settings.environment == "production")
    app.add_middleware(BodyLimits, settings=settings)  # outermost: counts every byte read
    install_error_handlers(app)
    install_openapi(app)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """The start page is the reader's own work."""
        return RedirectResponse("/tasks", status_code=303)

    _include_routers(app)
    return app
