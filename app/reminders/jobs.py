"""The APScheduler 3 interval job that runs the sweep, in `stepwise serve` or on its own.

APScheduler only triggers the sweep (its in-memory job store is never shared); the work and
its state live in our tables, so several schedulers may run side by side.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import clock
from app.config import Settings
from app.engine.audit_checkpoints import write_checkpoint
from app.engine.registry import Registry
from app.housekeeping import run_housekeeping
from app.observability.batches import scheduler_batch
from app.observability.metrics import count_sweep
from app.reminders.sweep import SweepReport, sweep

log = logging.getLogger("stepwise.scheduler")
JOB_ID = "stepwise-sweep"
HOUSEKEEPING_JOB_ID = "stepwise-housekeeping"
HOUSEKEEPING_MINUTES = 15
CHECKPOINT_JOB_ID = "stepwise-audit-checkpoint"


def run_sweep(engine: Engine, settings: Settings, registry: Registry) -> SweepReport | None:
    """One tick under its own batch id: sweep, count, log one line, write the heartbeat; an
    error is logged (None) and the next tick tries again."""
    report = None
    with scheduler_batch("sweep", engine) as batch:
        report = sweep(engine, settings=settings, registry=registry)
        batch.counts = {"queued": report.queued, "digests": report.digests, "sent": report.sent,
                        "retried": report.retried, "failed": report.failed,
                        "obsolete": report.obsolete}
        count_sweep(queued=report.queued, sent=report.sent, failed=report.failed,
                    retried=report.retried)
        for error in report.errors:
            log.warning("mail delivery: %s", error)
    return report


def run_upkeep(engine: Engine) -> None:
    """One housekeeping tick under its own batch id; an error is logged and the next tick
    tries again."""
    with scheduler_batch("housekeeping"):
        run_housekeeping(engine)


def run_checkpoint(engine: Engine, settings: Settings) -> None:
    """Write a signed checkpoint of the audit chain heads, unless another scheduler just did."""
    try:
        with Session(engine) as session:
            path = write_checkpoint(session, settings, clock.now(), min_interval=timedelta(
                minutes=settings.audit_checkpoint_minutes / 2))
    except Exception:  # noqa: BLE001 - a failing tick must not stop the scheduler
        log.exception("audit checkpoint failed")
        return
    if path is not None:
        log.info("audit checkpoint written to %s", path)


def add_sweep_job(scheduler: BaseScheduler, engine: Engine, settings: Settings,
                  registry: Registry) -> None:
    """The sweep every `scheduler_interval_seconds`, first run at once, never two at a time;
    housekeeping (overdue trend, grades coming into force) every quarter of an hour; a signed
    audit checkpoint every `audit_checkpoint_minutes`."""
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
    if settings.audit_checkpoint_minutes > 0:
        scheduler.add_job(
            run_checkpoint, "interval", minutes=settings.audit_checkpoint_minutes,
            args=(engine, settings), id=CHECKPOINT_JOB_ID, replace_existing=True,
            max_instances=1, coalesce=True, next_run_time=datetime.now(scheduler.timezone),
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
