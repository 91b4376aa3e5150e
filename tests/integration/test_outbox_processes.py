"""Exactly-once delivery with real scheduler processes (`stepwise scheduler --once`) on one
PostgreSQL database and a slow SMTP server: two at once with a lease far shorter than their
work, and one killed with SIGKILL in the middle of its work."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.notifications.delivery import LOCK_SPACE
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from app.notifications.outbox import enqueue
from app.reminders.sweep import sweep
from tests.factories import WORKFLOWS, bank, person
from tests.smtp_sink import SmtpSink

PROJECT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 1


@pytest.fixture
def on_postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("several scheduler processes share a PostgreSQL database")


def queue_results(db: Session, count: int) -> list[str]:
    """`count` result mails due now (cases of a workflow whose first step has no deadline, so
    the schedulers have nothing else to do); their outbox keys."""
    org = bank(db)
    runtime.get_registry().sync(db)
    now = clock.now()
    keys = []
    for i in range(count):
        subject = org.employee if i == 0 else person(db, org.sub_a, supervisor=org.manager_a)
        instance = runtime.start(db, workflow="promotion_pf_junior", subject=subject,
                                 title=f"晋升申请{i}")
        key = f"final:i{instance.id}:test:p{subject.id}"
        enqueue(db, key=key, kind=MessageKind.final_result, recipient=subject, now=now,
                digest_default=False, instance_id=instance.id, params={"state": "appointed"})
        keys.append(key)
    db.commit()
    return keys


def scheduler(database_url: str, sink: SmtpSink, tmp_path: Path) -> subprocess.Popen[str]:
    """`stepwise scheduler --once` as its own process, delivering to the sink."""
    env = {**os.environ,
           "STEPWISE_DATABASE_URL": database_url, "STEPWISE_ENVIRONMENT": "test",
           "STEPWISE_SECRET_KEY": "test-secret", "STEPWISE_VAR_DIR": str(tmp_path),
           "STEPWISE_WORKFLOWS_DIR": str(WORKFLOWS), "STEPWISE_SMTP_HOST": "127.0.0.1",
           "STEPWISE_SMTP_PORT": str(sink.port), "STEPWISE_SMTP_TIMEOUT_SECONDS": "30",
           "STEPWISE_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
           "STEPWISE_QUIET_HOURS_START": "00:00", "STEPWISE_QUIET_HOURS_END": "00:00",
           "STEPWISE_BASE_URL": "http://stepwise.test"}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler", "--once"],
                            cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def gone_with_its_connection(engine) -> None:
    """Wait (no sleep: lock waits) until the database has ended the dead process's session
    and dropped its locks (the rows it was writing, the messages it was sending), which it
    does as soon as it sees the connection close."""
    with engine.connect() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        pending = conn.execute(select(OutboxMessage.id).where(
            OutboxMessage.status == MessageStatus.pending).with_for_update()).scalars().all()
        for message_id in pending:
            conn.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), :id)"),
                         {"space": LOCK_SPACE, "id": message_id})
        conn.rollback()


def sent_by(output: str) -> int:
    match = re.search(r"(\d+) sent, ", output)  # the summary line, not the log line
    assert match, output
    return int(match.group(1))


def test_two_schedulers_and_a_slow_server_deliver_each_message_once(
        on_postgresql, db, registry, database_url, tmp_path) -> None:
    keys = queue_results(db, 16)
    # 16 × 0.3 s: the work outlasts the 1 s lease, and the start of either process
    sink = SmtpSink(delay=0.3, overlap=2)
    sink.start()
    try:
        processes = [scheduler(database_url, sink, tmp_path) for _ in range(2)]
        outputs = [p.communicate(timeout=120)[0] for p in processes]
    finally:
        sink.stop()
    assert all(p.returncode == 0 for p in processes), outputs
    assert all(sent_by(o) >= 1 for o in outputs), outputs  # both were sending at once
    ids = Counter(r.message["Message-ID"] for r in sink.received)
    assert len(sink.received) == len(keys) and set(ids.values()) == {1}
    db.expire_all()
    rows = db.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {MessageStatus.sent}


def test_a_scheduler_killed_mid_batch_repeats_at_most_the_message_in_flight(
        on_postgresql, db, engine, registry, database_url, tmp_path) -> None:
    keys = queue_results(db, 6)
    sink = SmtpSink(delay=0.3)
    sink.start()
    try:
        process = scheduler(database_url, sink, tmp_path)
        assert sink.wait_for(2), process.communicate(timeout=5)[0]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        gone_with_its_connection(engine)
        # The next tick, at once: nothing waits for the dead scheduler's claim to run out.
        report = sweep(engine, clock.now() + timedelta(seconds=1),
                       settings=sink.settings(outbox_lease_seconds=LEASE_SECONDS,
                                              quiet_hours_start="00:00",
                                              quiet_hours_end="00:00"),
                       registry=registry)
    finally:
        sink.stop()
    ids = Counter(r.message["Message-ID"] for r in sink.received)
    assert len(ids) == len(keys)  # everything arrived
    assert sum(ids.values()) - len(ids) <= 1  # only the one in flight may come twice
    assert report.sent >= len(keys) - 3
    db.expire_all()
    assert {r.status for r in db.exec(select(OutboxMessage))} == {MessageStatus.sent}
