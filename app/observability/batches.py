"""Scheduler batches: each under its own id, timed, counted, logged in one line, and (for the
sweep) written to the heartbeat that /readyz and /metrics read."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import clock
from app.db import transaction
from app.observability.metrics import SWEEP_SECONDS, SWEEPS
from app.observability.models import SchedulerHeartbeat
from app.request_context import bound_request_id, new_request_id

log = logging.getLogger("stepwise.scheduler")
FORGET_AFTER = timedelta(days=7)  # heartbeats of processes gone this long are dropped


def scheduler_name() -> str:
    """This scheduler process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


@dataclass
class Batch:
    """One scheduler batch in progress: its id and what it did (counts for the log line)."""

    kind: str
    request_id: str
    counts: dict[str, int] = field(default_factory=dict)
    ok: bool = True


@contextmanager
def scheduler_batch(kind: str, engine: Engine | None = None) -> Iterator[Batch]:
    """Run a batch (`sweep`, `housekeeping`) under a fresh id; an error is logged, not raised,
    so the scheduler goes on. With an engine the heartbeat is written afterwards."""
    batch = Batch(kind, new_request_id(f"{kind}-"))
    started_at, started = clock.now(), perf_counter()
    with bound_request_id(batch.request_id):
        try:
            yield batch
        except Exception:  # noqa: BLE001 - a failing batch must not stop the scheduler
            batch.ok = False
            log.exception("%s failed", kind)
        seconds = perf_counter() - started
        if kind == "sweep":
            SWEEP_SECONDS.observe(seconds)
            SWEEPS.labels("ok" if batch.ok else "error").inc()
        if engine is not None:
            write_heartbeat(engine, started_at, seconds, batch.ok)
        counts = "".join(f" {k}={v}" for k, v in batch.counts.items())
        log.info("%s %s in %.1f ms%s", kind, "done" if batch.ok else "failed", seconds * 1000,
                 counts, extra={
                     "batch": kind, "ok": batch.ok, "duration_ms": round(seconds * 1000, 1),
                     **batch.counts})


def write_heartbeat(engine: Engine, started_at: datetime, seconds: float, ok: bool) -> None:
    """Record this process's latest sweep (a database that is down is only logged)."""
    now = clock.now()
    worker = scheduler_name()
    try:
        with transaction(engine) as session:
            beat = session.get(SchedulerHeartbeat, worker)
            if beat is None:
                beat = SchedulerHeartbeat(worker=worker, started_at=started_at, last_run_at=now)
            beat.last_run_at = now
            beat.last_duration_seconds = round(seconds, 3)
            if ok:
                beat.last_success_at = now
                beat.last_error = ""
            else:
                beat.last_error = "the sweep failed: see the log"
            session.add(beat)
            session.execute(delete(SchedulerHeartbeat).where(
                SchedulerHeartbeat.last_run_at < now - FORGET_AFTER))
    except SQLAlchemyError as exc:
        log.warning("heartbeat not written: %s", str(exc).splitlines()[0])


def last_success(engine: Engine, worker: str | None = None) -> datetime | None:
    """When this process's scheduler (or `worker`) last swept without error, or None."""
    with Session(engine) as session:
        beat = session.get(SchedulerHeartbeat, worker or scheduler_name())
        return beat.last_success_at if beat is not None else None
