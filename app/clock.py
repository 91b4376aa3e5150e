"""The only source of "now": production reads the system clock, tests travel in time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
_offset = timedelta(0)
_zone = ZoneInfo("Asia/Shanghai")


def set_timezone(name: str) -> None:
    """Set the organisation's timezone used for local dates."""
    global _zone
    _zone = ZoneInfo(name)


def zone() -> ZoneInfo:
    """The organisation's timezone."""
    return _zone


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def local_now() -> datetime:
    """The current instant in the organisation's timezone."""
    return now().astimezone(_zone)


def today() -> date:
    """Today's date in the organisation's timezone."""
    return local_now().date()


def freeze(at: datetime) -> None:
    """Stop the clock at an instant (tests only)."""
    global _frozen
    if at.tzinfo is None:
        at = at.replace(tzinfo=_zone)
    _frozen = at.astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move the clock forward (frozen or running)."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    """Return to the system clock."""
    global _frozen, _offset
    _frozen = None
    _offset = timedelta(0)


@contextmanager
def travel(at: datetime) -> Iterator[None]:
    """Run a block at a frozen instant, then return to the system clock."""
    freeze(at)
    try:
        yield
    finally:
        reset()
