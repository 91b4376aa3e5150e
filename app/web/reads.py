"""Where report reads go: the read replica when one is configured, answers, and has replayed
the reader's own latest write; the primary otherwise (so nobody sees their own change missing).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from time import monotonic

from fastapi import Request
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.web.sessions import USER_KEY

log = logging.getLogger("stepwise.replica")
WAL_KEY = "wal"  # session cookie: the primary's WAL position after the reader's last write
RETRY_SECONDS = 30  # after the replica failed, reports read the primary this long
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CAUGHT_UP = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
PRIMARY_POSITION = text("SELECT CAST(pg_current_wal_lsn() AS text)")


class RecentWrites:
    """Per-person WAL positions for callers without a session cookie (API tokens), kept in
    this process: bounded, the oldest forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        self._positions: OrderedDict[int, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def note(self, person_id: int, lsn: str) -> None:
        """Remember a person's latest write position."""
        with self._lock:
            self._positions[person_id] = lsn
            self._positions.move_to_end(person_id)
            while len(self._positions) > self._size:
                self._positions.popitem(last=False)

    def get(self, person_id: int) -> str | None:
        """The person's latest write position, if this process saw one."""
        with self._lock:
            return self._positions.get(person_id)

    def forget(self, person_id: int, lsn: str) -> None:
        """Drop a position the replica has replayed (unless a newer write replaced it)."""
        with self._lock:
            if self._positions.get(person_id) == lsn:
                del self._positions[person_id]


RECENT_WRITES = RecentWrites()


def replica_engine(request: Request) -> Engine | None:
    """The app's replica engine, or None when reports read the primary."""
    return getattr(request.app.state, "replica_engine", None)


def note_write(request: Request, session: Session) -> None:
    """After a write request committed: remember where the primary's WAL stood, so this
    reader's reports wait for the replica to get there (or read the primary until then)."""
    if replica_engine(request) is None or request.method in SAFE_METHODS:
        return
    try:
        lsn = session.execute(PRIMARY_POSITION).scalar_one()
        session.rollback()
    except SQLAlchemyError:
        return
    if "session" in request.scope and request.session.get(USER_KEY) is not None:
        request.session[WAL_KEY] = lsn  # browser sessions only: a token call gets no cookie
    viewer = getattr(request.state, "user", None)
    if viewer is not None:
        RECENT_WRITES.note(viewer.id, lsn)


def _caught_up(request: Request, conn: Connection, person_id: int) -> bool:
    """Whether the replica has replayed the reader's latest write (forgotten once it has)."""
    cookie = request.session.get(WAL_KEY) if "session" in request.scope else None
    lsn = cookie or RECENT_WRITES.get(person_id)
    if not lsn:
        return True
    if not conn.execute(CAUGHT_UP, {"lsn": lsn}).scalar():
        return False
    if cookie:
        request.session.pop(WAL_KEY, None)
    RECENT_WRITES.forget(person_id, lsn)
    return True


def replica_connection(request: Request, replica: Engine, person_id: int
                       ) -> Connection | None:
    """A connection to the replica when it answers and has the reader's writes, else None.

    After a failure the replica is left alone for RETRY_SECONDS in this process, so an
    unreachable host costs one connect timeout, not one per report.
    """
    state = request.app.state
    if monotonic() < getattr(state, "replica_retry_at", 0.0):
        return None
    try:
        conn = replica.connect()
    except SQLAlchemyError as exc:
        state.replica_retry_at = monotonic() + RETRY_SECONDS
        log.warning("replica unreachable, reports read the primary for %s s: %s",
                    RETRY_SECONDS, str(exc).splitlines()[0])
        return None
    try:
        if _caught_up(request, conn, person_id):
            return conn
    except SQLAlchemyError as exc:
        state.replica_retry_at = monotonic() + RETRY_SECONDS
        log.warning("replica did not answer, reports read the primary for %s s: %s",
                    RETRY_SECONDS, str(exc).splitlines()[0])
    conn.close()
    return None
