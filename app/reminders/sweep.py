"""One sweep: plan timers of new tasks, resolve reset requests, fire due timers a round at a
time with deliveries between, build digests, deliver the outbox.

Safe to run twice, on two machines, or after a crash: every step claims its rows and every
message has an idempotency key, so the result is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from app import clock
from app.auth.reset import resolve_requests
from app.config import Settings, get_settings
from app.engine import runtime
from app.engine.registry import Registry
from app.notifications.delivery import MailerFactory, deliver_outbox
from app.notifications.digest import build_digests
from app.notifications.mailer import mailer_for
from app.reminders.firing import fire_round
from app.reminders.service import cancel_closed, schedule_open_tasks
from app.rows import claim_transaction


@dataclass
class SweepReport:
    """What one sweep did."""

    scheduled: int = 0
    cancelled: int = 0
    queued: int = 0
    digests: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    obsolete: int = 0  # queued, but no longer true when its turn came: not sent
    errors: list[str] = field(default_factory=list)


def sweep(engine: Engine, now: datetime | None = None, *, settings: Settings | None = None,
          registry: Registry | None = None, mailer_factory: MailerFactory = mailer_for
          ) -> SweepReport:
    """Do everything that has come due by `now` (default: the clock's now)."""
    now = now or clock.now()
    settings = settings or get_settings()
    registry = registry or runtime.get_registry()
    report = SweepReport()
    with claim_transaction(engine) as session:
        report.cancelled = cancel_closed(session)
        report.scheduled = schedule_open_tasks(session, now, registry=registry)
    with claim_transaction(engine) as session:
        report.queued += resolve_requests(session, now=now)  # password-reset mail, first
    while True:
        # A backlog of reminders (after an outage, or a bank's first start) is fired a round
        # at a time with deliveries between, so it never holds back mail already queued.
        queued, more = fire_round(engine, now, registry=registry,
                                  digest_default=settings.digest_default,
                                  batch_size=settings.sweep_batch_size,
                                  limit=settings.sweep_round_size)
        report.queued += queued
        if not more:
            break
        _deliver(engine, now, settings, registry, mailer_factory, report)
    report.digests = build_digests(engine, now, settings=settings)
    _deliver(engine, now, settings, registry, mailer_factory, report)
    return report


def _deliver(engine: Engine, now: datetime, settings: Settings, registry: Registry,
             mailer_factory: MailerFactory, report: SweepReport) -> None:
    """Send what is queued and due, adding the outcome to the sweep's report."""
    delivery = deliver_outbox(engine, now, settings=settings, registry=registry,
                              mailer_factory=mailer_factory)
    report.sent += delivery.sent
    report.retried += delivery.retried
    report.failed += delivery.failed
    report.obsolete += delivery.obsolete
    report.errors += delivery.errors
