"""Aging of overdue work in working days (Chinese calendar), in the buckets HR reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from app.engine.calendar import WorkingCalendar, local_date
from app.i18n import N_

# (key, label msgid, first day, last day or None for open-ended)
BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("days_0_2", N_("0–2 working days"), 0, 2),
    ("days_3_5", N_("3–5 working days"), 3, 5),
    ("days_6_10", N_("6–10 working days"), 6, 10),
    ("days_over_10", N_("More than 10 working days"), 11, None),
)
BUCKET_KEYS = tuple(key for key, *_ in BUCKETS)


def bucket_of(days: int) -> str:
    """The bucket a number of working days overdue falls into."""
    for key, _label, first, last in BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return BUCKETS[0][0]  # negative: not overdue yet, counted with the youngest


def bucket_bounds(key: str) -> tuple[int, int | None]:
    """First and last working day of a bucket."""
    for bucket, _label, first, last in BUCKETS:
        if bucket == key:
            return first, last
    raise KeyError(key)


class Aging:
    """Working days overdue per due instant, computed once per distinct due time."""

    def __init__(self, cal: WorkingCalendar, today: date) -> None:
        self.cal = cal
        self.today = today
        self._memo: dict[datetime, int] = {}
        self._buckets: dict[datetime, str] = {}  # a report asks once per row, rows share times

    def days(self, due_at: datetime) -> int:
        """Working days between the due date and today."""
        if due_at not in self._memo:
            self._memo[due_at] = self.cal.working_days_between(local_date(due_at), self.today)
        return self._memo[due_at]

    def bucket(self, due_at: datetime) -> str:
        """The bucket of a due instant."""
        found = self._buckets.get(due_at)
        if found is None:
            found = self._buckets[due_at] = bucket_of(self.days(due_at))
        return found


def empty_buckets() -> dict[str, int]:
    """Zero in every bucket."""
    return dict.fromkeys(BUCKET_KEYS, 0)


def add_counts(target: dict[str, int], source: Iterable[tuple[str, int]]) -> None:
    """Add (bucket, count) pairs into a bucket dict."""
    for key, count in source:
        target[key] = target.get(key, 0) + count
