"""When a deadline policy wants reminders and escalations, on the working-day calendar (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.engine.calendar import WorkingCalendar
from app.engine.definitions import DeadlinePolicy
from app.reminders.models import TimerKind


@dataclass(frozen=True)
class PlannedTimer:
    """One moment of a policy: its kind, level and the working day it falls on."""

    kind: str
    level: int
    day: date
    enabled: bool = True


def on_due_day(cal: WorkingCalendar, due_day: date) -> date:
    """The due day, or the working day before it when the deadline falls on a day off."""
    return cal.last_working_day_on_or_before(due_day)


def escalation_day(cal: WorkingCalendar, due_day: date, after_working_days: int) -> date:
    """The working day a rung fires: N working days after the due day (0 and 1: the first)."""
    return cal.add_working_days(due_day, max(after_working_days, 1))


def overdue_day(cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date, level: int) -> date:
    """The working day of the n-th overdue reminder: n * K working days after the due day."""
    assert policy.remind_every_overdue
    return cal.add_working_days(due_day, level * policy.remind_every_overdue)


def overdue_level_on(
    cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date, today: date
) -> int:
    """The overdue reminder level that has come due by today (0: none yet)."""
    if not policy.remind_every_overdue or today <= due_day:
        return 0
    return cal.working_days_between(due_day, today) // policy.remind_every_overdue


def planned_timers(
    cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date
) -> list[PlannedTimer]:
    """The finite part of a policy: reminders before and on the due day, the first overdue
    reminder (the chain goes on from there), and every rung of the escalation ladder."""
    planned = [
        PlannedTimer(TimerKind.before_due, days, cal.add_working_days(due_day, -days))
        for days in sorted(set(policy.remind_before), reverse=True)
    ]
    planned.append(
        PlannedTimer(TimerKind.on_due, 0, on_due_day(cal, due_day), policy.remind_on_due)
    )
    if policy.remind_every_overdue:
        planned.append(PlannedTimer(TimerKind.overdue, 1, overdue_day(cal, policy, due_day, 1)))
    planned += [
        PlannedTimer(TimerKind.escalation, i, escalation_day(cal, due_day, rung.after_working_days))
        for i, rung in enumerate(policy.escalate)
    ]
    return planned


def timeline(
    cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date, until: date
) -> list[PlannedTimer]:
    """Everything the policy does up to a day if nobody acts (the simulation), in order."""
    events = [p for p in planned_timers(cal, policy, due_day) if p.enabled and p.day <= until]
    events = [p for p in events if p.kind != TimerKind.overdue]
    level = 1
    while policy.remind_every_overdue:
        day = overdue_day(cal, policy, due_day, level)
        if day > until:
            break
        events.append(PlannedTimer(TimerKind.overdue, level, day))
        level += 1
    return sorted(events, key=lambda p: (p.day, ORDER[p.kind], p.level))


ORDER = {TimerKind.before_due: 0, TimerKind.on_due: 1, TimerKind.overdue: 2,
         TimerKind.escalation: 3}


def rank(event: PlannedTimer) -> tuple[date, int, int]:
    """Where an event stands on the ladder: by day, then kind, then level."""
    return event.day, ORDER[event.kind], event.level


def _first_overdue_after(cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date,
                         after: date | None) -> int:
    """The first overdue level falling after a day (1 when there is no day)."""
    if after is None:
        return 1
    # start near the level due by then (no walk up from level 1 for a task overdue for months)
    level = max(1, overdue_level_on(cal, policy, due_day, after))
    while level > 1 and overdue_day(cal, policy, due_day, level - 1) > after:
        level -= 1
    while overdue_day(cal, policy, due_day, level) <= after:
        level += 1
    return level


def _finite(cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date) -> list[PlannedTimer]:
    return [p for p in planned_timers(cal, policy, due_day)
            if p.enabled and p.kind != TimerKind.overdue]


def next_rung(cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date,
              after: date | None = None) -> PlannedTimer | None:
    """The first rung of the ladder falling after a day (no day: the very first rung); None
    when the ladder has ended. A task keeps only this one as a timer row: firing arms the next.
    """
    rungs = [p for p in _finite(cal, policy, due_day) if after is None or p.day > after]
    if policy.remind_every_overdue:
        level = _first_overdue_after(cal, policy, due_day, after)
        rungs.append(PlannedTimer(TimerKind.overdue, level,
                                  overdue_day(cal, policy, due_day, level)))
    return min(rungs, key=rank, default=None)


def due_rungs(cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date, since: date,
              today: date) -> list[PlannedTimer]:
    """The rungs falling from one day to another, both included, in ladder order (what one
    firing catches up: the same events `timeline` lists)."""
    rungs = [p for p in _finite(cal, policy, due_day) if since <= p.day <= today]
    if policy.remind_every_overdue:
        level = _first_overdue_after(cal, policy, due_day, since - timedelta(days=1))
        while (day := overdue_day(cal, policy, due_day, level)) <= today:
            rungs.append(PlannedTimer(TimerKind.overdue, level, day))
            level += 1
    return sorted(rungs, key=rank)


def mails(cal: WorkingCalendar, policy: DeadlinePolicy, due_day: date, start: date,
          until: date) -> list[PlannedTimer]:
    """The mails a task gets if nobody acts and the sweep runs every day (what `stepwise
    simulate` shows): what fell due before the task began goes out on its first day; on any day
    one reminder (the latest rung of the ladder that came due) and one escalation (the highest
    rung), as the sweep fires them."""
    chosen: dict[tuple[date, bool], PlannedTimer] = {}
    for event in timeline(cal, policy, due_day, until):  # in the order the sweep ranks them
        slot = (max(event.day, start), event.kind == TimerKind.escalation)
        chosen[slot] = event
    return sorted((PlannedTimer(e.kind, e.level, day) for (day, _), e in chosen.items()),
                  key=lambda p: (p.day, ORDER[p.kind], p.level))


class Phase:
    """Where a deadline stands on the day a mail about it is sent."""

    ahead = "ahead"  # working days remain before it
    last_day = "last_day"  # due on a day off; today is the last working day before it
    today = "today"
    overdue = "overdue"  # n working days after it
    passed = "passed"  # after it, but no working day has passed since (a weekend)


def phase_on(cal: WorkingCalendar, due_day: date, today: date) -> tuple[str, int]:
    """The phase of a deadline on a day, and the working days before or after it."""
    if today < due_day:
        ahead = cal.working_days_between(today, due_day)
        return (Phase.ahead, ahead) if ahead else (Phase.last_day, 0)
    if today == due_day:
        return Phase.today, 0
    behind = cal.working_days_between(due_day, today)
    return (Phase.overdue, behind) if behind else (Phase.passed, 0)
