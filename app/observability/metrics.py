"""Prometheus metrics: counters each process keeps (summed over worker processes in
multiprocess mode), and gauges read from the database when /metrics is scraped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from app import clock
from app.config import Settings

# prometheus-client reads PROMETHEUS_MULTIPROC_DIR when it is imported: `stepwise serve
# --workers N` sets it before the workers start, so these become per-process files then.
HTTP_REQUESTS = Counter("stepwise_http_requests", "HTTP requests answered, by route template",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("stepwise_http_request_duration_seconds",
                         "Time to answer an HTTP request, by route template", ["method", "route"],
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ACTIONS = Counter("stepwise_workflow_actions", "Workflow actions committed",
                  ["workflow", "trigger"])
REMINDERS_DUE = Counter("stepwise_reminders_due",
                        "Reminders and escalations that fell due and were queued")
MAIL = Counter("stepwise_mail_messages", "Outgoing messages handed over, given up or deferred",
               ["outcome"])  # sent, failed, retried
SWEEP_SECONDS = Histogram("stepwise_scheduler_sweep_duration_seconds",
                          "Time one scheduler sweep took",
                          buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
SWEEPS = Counter("stepwise_scheduler_sweeps", "Scheduler sweeps run", ["outcome"])  # ok, error
REPORT_READS = Counter("stepwise_report_reads",
                       "Report requests by the database that answered them",
                       ["database"])  # replica, primary
MAIL_OUTCOMES = ("sent", "failed", "retried")


def count_sweep(*, queued: int, sent: int, failed: int, retried: int) -> None:
    """Add one sweep's reminders and mail to the counters."""
    REMINDERS_DUE.inc(queued)
    for outcome, n in zip(MAIL_OUTCOMES, (sent, failed, retried), strict=True):
        MAIL.labels(outcome).inc(n)


def _seconds(at: datetime | None) -> float:
    return at.timestamp() if at is not None else 0.0


class DatabaseCollector:
    """Gauges read at scrape time, each one cheap: the outbox, schedulers, overdue work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Read the gauges; a database that does not answer gives `stepwise_database_up 0`."""
        up = GaugeMetricFamily("stepwise_database_up", "1 when the database answered the scrape")
        try:
            with Session(self.engine) as session:
                families = list(self._families(session))
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, session: Session) -> Iterator[Metric]:
        from app.notifications.models import MessageStatus, OutboxMessage
        from app.observability.models import SchedulerHeartbeat

        now = clock.now()
        pending = session.exec(select(func.count()).where(
            OutboxMessage.status == MessageStatus.pending)).one()
        due_since = session.exec(
            select(func.min(OutboxMessage.send_after))
            .where(OutboxMessage.status == MessageStatus.pending,
                   OutboxMessage.send_after <= now)).one()
        failed = session.exec(select(func.count()).where(
            OutboxMessage.status == MessageStatus.failed)).one()
        yield GaugeMetricFamily("stepwise_outbox_pending_messages",
                                "Messages waiting in the outbox (due or waiting to retry)",
                                value=pending)
        yield GaugeMetricFamily(
            "stepwise_outbox_oldest_pending_age_seconds",
            "How long the oldest due message has waited (0 when none is due)",
            value=max((now - due_since).total_seconds(), 0.0) if due_since else 0.0)
        yield GaugeMetricFamily("stepwise_outbox_failed_messages",
                                "Messages the mail server refused for good (listed for HR)",
                                value=failed)
        success = GaugeMetricFamily("stepwise_scheduler_last_success_timestamp_seconds",
                                    "When each scheduler process last swept without error",
                                    labels=["worker"])
        ran = GaugeMetricFamily("stepwise_scheduler_last_run_timestamp_seconds",
                                "When each scheduler process last swept", labels=["worker"])
        for beat in session.exec(select(SchedulerHeartbeat)):
            success.add_metric([beat.worker], _seconds(beat.last_success_at))
            ran.add_metric([beat.worker], _seconds(beat.last_run_at))
        yield success
        yield ran
        yield from overdue_by_branch(session)


def overdue_by_branch(session: Session) -> Iterator[Metric]:
    """Overdue tasks per branch from the latest daily snapshot (units above a branch count
    under their own code), and when that snapshot was taken."""
    from app.org.models import OrgUnit, UnitKind
    from app.reports.models import OverdueSnapshot, OverdueSnapshotDay

    gauge = GaugeMetricFamily("stepwise_overdue_tasks",
                              "Overdue open tasks per branch, from the latest overdue snapshot",
                              labels=["branch"])
    taken = GaugeMetricFamily("stepwise_overdue_snapshot_timestamp_seconds",
                              "When the latest overdue snapshot was taken")
    latest = session.exec(select(OverdueSnapshotDay).order_by(
        OverdueSnapshotDay.day.desc()).limit(1)).first()
    if latest is not None:
        rows = session.exec(select(OverdueSnapshot.org_unit_id, OverdueSnapshot.total)
                            .where(OverdueSnapshot.day == latest.day)).all()
        units = {u.id: u for u in session.exec(select(OrgUnit))}
        totals: dict[str, int] = {}
        for unit_id, total in rows:
            unit = units.get(unit_id)
            if unit is None:
                continue
            ancestry = [units.get(int(i)) for i in unit.path.strip("/").split("/") if i]
            branch = next((u for u in reversed(ancestry)
                           if u is not None and u.kind == UnitKind.branch), unit)
            totals[branch.code] = totals.get(branch.code, 0) + total
        for code, total in sorted(totals.items()):
            gauge.add_metric([code], total)
        taken.add_metric([], _seconds(latest.taken_at))
    yield gauge
    yield taken


def exposition(settings: Settings, engine: Engine) -> bytes:
    """The text format of every metric: this process's (or all workers') and the database's."""
    if settings.prometheus_multiproc_dir:
        processes = CollectorRegistry()
        MultiProcessCollector(processes, path=settings.prometheus_multiproc_dir)
    else:
        processes = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(engine))
    return generate_latest(processes) + generate_latest(database)
