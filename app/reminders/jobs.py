"""The APScheduler 3 interval job that runs the sweep, in `stepwise serve` or on its own.

APScheduler only triggers the sweep (its in-memory job store is never shared); the work and
its state live in our tables, so several schedulers may run side by side.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.engine import Engine

from app.config import Settings
from app.engine.registry import Registry
from app.housekeeping import run_housekeeping
from app.reminders.sweep import sweep

log = logging.getLogger("stepwise.scheduler")
JOB_ID = "stepwise-sweep"
HOUSEKEEPING_JOB_ID = "stepwise-housekeeping"
HOUSEKEEPING_MINUTES = 15


def run_sweep(engine: Engine, settings: Settings, registry: Registry) -> None:
    """One tick: sweep, log what happened; an error is logged and the next tick tries again."""
    try:
        report = sweep(engine, settings=settings, registry=registry)
    except Exception:  # noqa: BLE001 - a failing tick must not stop the scheduler
        log.exception("sweep failed")
        return
    if (report.queued or report.sent or report.retried or report.failed or report.digests
            or report.obsolete):
        log.info("sweep: %s queued, %s digests, %s sent, %s to retry, %s failed, %s no longer "
                 "true", report.queued, report.digests, report.sent, report.retried,
                 report.failed, report.obsolete)
    for error in report.errors:
        log.warning("mail delivery: %s", error)


def run_upkeep(engine: Engine) -> None:
    """One housekeeping tick; an error is logged and the next tick tries again."""
    try:
        run_housekeeping(engine)
    except Exception:  # noqa: BLE001 - a failing tick must not stop the scheduler
        log.exception("housekeeping failed")


def add_sweep_job(scheduler: BaseScheduler, engine: Engine, settings: Settings,
                  registry: Registry) -> None:
    """The sweep every `scheduler_interval_seconds`, first run at once, never two at a time;
    housekeeping (overdue trend, grades coming into force) every quarter of an hour."""
    scheduler.add_job(
        run_sweep, "interval", seconds=settings.scheduler_interval_seconds,
        args=(engine, settings, registry), id=JOB_ID, replace_existing=True,
        max_instances=1, coalesce=True, next_run_time=datetime.now(scheduler.timezone),
    )
    scheduler.add_job(
        run_upkeep, "interval", minutes=HOUSEKEEPING_MINUTES, args=(engine,),
        id=HOUSEKEEPING_JOB_ID, replace_existing=True, max_instances=1, coalesce=True,
        next_run_time=datetime.now(scheduler.timezone),
    )


def background_scheduler(engine: Engine, settings: Settings, registry: Registry
                         ) -> BackgroundScheduler:
    """A started scheduler thread running the sweep (inside the web process)."""
    scheduler = BackgroundScheduler(timezone=settings.timezone, daemon=True)
    add_sweep_job(scheduler, engine, settings, registry)
    scheduler.start()
    return scheduler


def blocking_scheduler(engine: Engine, settings: Settings, registry: Registry
                       ) -> BlockingScheduler:
    """A scheduler that runs in the foreground until interrupted (the standalone process)."""
    scheduler = BlockingScheduler(timezone=settings.timezone)
    add_sweep_job(scheduler, engine, settings, registry)
    return scheduler
