"""Every action reads the working-day calendar: a process shares one copy, and an HR correction
reaches the worker that made it at once and every other worker within `calendar_share_seconds`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import clock
from app.calendar import service as calendar_service
from app.config import PROJECT_ROOT
from app.engine import calendar
from tests.factories import bank

MONDAY = date(2031, 3, 3)  # an ordinary working Monday, far from any holiday

WORKER = textwrap.dedent("""
    import sys, time
    from datetime import date
    from sqlalchemy import event
    from sqlmodel import Session
    from app.db import make_engine
    from app.engine import calendar
    from app.models import load_all_models

    load_all_models()
    url, share, day = sys.argv[1], float(sys.argv[2]), date.fromisoformat(sys.argv[3])
    calendar.share_for(share)
    engine = make_engine(url)
    reads = 0

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args):
        global reads
        reads += "calendar_day" in statement

    def working():
        with Session(engine) as session:
            return calendar.load(session).is_working_day(day)

    print(working(), flush=True)
    sys.stdin.readline()  # the other worker has committed its correction
    started, loads = time.monotonic(), 0
    while time.monotonic() - started < 30:
        loads += 1
        if not working():
            break
        time.sleep(0.02)
    print(f"{time.monotonic() - started:.3f} {loads} {reads}", flush=True)
""")


@pytest.fixture
def calendar_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read HR's corrections, as they are sent."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if "calendar_day" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def working(engine: Engine, day: date) -> bool:
    """Whether a fresh transaction, as the next action would, counts the day as worked."""
    with Session(engine) as session:
        return calendar.load(session).is_working_day(day)


def test_later_actions_reuse_the_calendar_their_worker_read(
        engine: Engine, calendar_reads: list[str]) -> None:
    for _ in range(5):
        assert working(engine, MONDAY)
    assert len(calendar_reads) == 1


def test_a_correction_is_seen_at_once_by_the_worker_that_made_it(
        db: Session, engine: Engine, calendar_reads: list[str]) -> None:
    org = bank(db)
    db.commit()
    assert working(engine, MONDAY)
    calendar_service.correct_day(db, by=org.hr_a, day=MONDAY, is_working_day=False,
                                 note="停电", now=clock.now())
    assert calendar.load(db).is_working_day(MONDAY) is False  # its own transaction, unflushed
    assert working(engine, MONDAY), "nobody else sees a correction before it is committed"
    db.commit()
    assert working(engine, MONDAY) is False
    reads = len(calendar_reads)
    assert working(engine, MONDAY) is False
    assert len(calendar_reads) == reads  # the fresh copy is shared again


def test_a_correction_rolled_back_changes_nothing_anyone_sees(
        db: Session, engine: Engine) -> None:
    org = bank(db)
    db.commit()
    assert working(engine, MONDAY)
    calendar_service.correct_day(db, by=org.hr_a, day=MONDAY, is_working_day=False,
                                 note="停电", now=clock.now())
    db.flush()
    db.rollback()
    assert working(engine, MONDAY)
    assert calendar.load(db).is_working_day(MONDAY)


def test_another_worker_sees_a_correction_within_the_share_time(
        db: Session, database_url: str) -> None:
    share = 1.5
    org = bank(db)
    db.commit()
    worker = subprocess.Popen([sys.executable, "-c", WORKER, database_url, str(share),
                               MONDAY.isoformat()], cwd=PROJECT_ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert worker.stdout is not None and worker.stdin is not None
        assert worker.stdout.readline().strip() == "True"
        calendar_service.correct_day(db, by=org.hr_a, day=MONDAY, is_working_day=False,
                                     note="停电", now=clock.now())
        db.commit()
        worker.stdin.write("corrected\n")
        worker.stdin.flush()
        waited, loads, reads = worker.stdout.readline().split()
    finally:
        worker.kill()
        worker.wait()
    # The worker answered from its copy meanwhile (fewer reads than loads) and read again once
    # the copy was `share` seconds old: a staleness bound, not a speed (ample slack for a
    # machine busy enough to starve the worker).
    assert int(reads) < int(loads)
    assert float(waited) <= share + 15.0


def test_a_correction_in_a_released_savepoint_stays_with_its_transaction(
        db: Session, engine: Engine) -> None:
    org = bank(db)
    db.commit()
    assert working(engine, MONDAY)
    with db.begin_nested():
        calendar_service.correct_day(db, by=org.hr_a, day=MONDAY, is_working_day=False,
                                     note="停电", now=clock.now())
    assert calendar.load(db).is_working_day(MONDAY) is False
    assert working(engine, MONDAY), "an uncommitted correction is nobody else's calendar"
    db.rollback()
    assert working(engine, MONDAY)
    assert calendar.load(db).is_working_day(MONDAY)
