"""Working days on the Chinese calendar: official holidays, make-up days, HR's word, fallback."""

from __future__ import annotations

from datetime import date, timedelta

from app.engine.calendar import Source, WorkingCalendar
from app.engine.definitions import DeadlinePolicy
from app.reminders.plan import (
    PlannedTimer,
    due_rungs,
    next_rung,
    overdue_level_on,
    planned_timers,
    timeline,
)

CAL = WorkingCalendar()


def test_spring_festival_2026_is_off_and_its_make_up_saturdays_are_worked() -> None:
    assert not CAL.is_working_day(date(2026, 2, 17))  # 春节
    assert not CAL.is_working_day(date(2026, 2, 23))  # Monday, still the holiday
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    assert CAL.is_working_day(date(2026, 2, 28))  # Saturday, 调休上班
    assert CAL.source(date(2026, 2, 17)) == Source.official


def test_counting_working_days_skips_the_holiday_and_counts_make_up_days() -> None:
    assert CAL.add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert CAL.add_working_days(date(2026, 2, 25), -2) == date(2026, 2, 14)
    assert CAL.working_days_between(date(2026, 2, 12), date(2026, 2, 26)) == 5
    assert CAL.working_days_between(date(2026, 2, 26), date(2026, 2, 12)) == -5


def test_zero_days_is_today_or_the_next_working_day() -> None:
    assert CAL.add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert CAL.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)


def test_a_year_without_a_published_notice_falls_back_to_weekends_only() -> None:
    new_year_2099 = date(2099, 1, 1)  # a Thursday
    assert CAL.is_working_day(new_year_2099)
    assert CAL.source(new_year_2099) == Source.weekend_fallback
    assert not CAL.is_working_day(date(2099, 1, 3))  # Saturday


def test_hr_corrections_override_the_official_calendar_both_ways() -> None:
    cal = WorkingCalendar({date(2026, 3, 3): False, date(2026, 3, 7): True})
    assert not cal.is_working_day(date(2026, 3, 3))
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.source(date(2026, 3, 3)) == Source.hr
    assert cal.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 4)


def test_a_policy_plans_reminders_before_on_and_after_the_due_day_and_its_ladder() -> None:
    policy = DeadlinePolicy(due_in_working_days=3, remind_before=[2, 1], remind_every_overdue=2,
                            escalate=[{"after_working_days": 3, "to": "subject.supervisor"}])
    due = date(2026, 2, 13)  # Friday before the Spring Festival
    planned = [(p.kind, p.level, p.day) for p in planned_timers(CAL, policy, due)]
    assert planned == [
        ("before_due", 2, date(2026, 2, 11)),
        ("before_due", 1, date(2026, 2, 12)),
        ("on_due", 0, date(2026, 2, 13)),
        ("overdue", 1, date(2026, 2, 24)),  # 14 Feb (make-up Saturday) and 24 Feb
        ("escalation", 0, date(2026, 2, 25)),
    ]
    assert overdue_level_on(CAL, policy, due, date(2026, 2, 27)) == 2
    days = [p.day for p in timeline(CAL, policy, due, date(2026, 3, 3))
            if p.kind == "overdue"]
    assert days == [date(2026, 2, 24), date(2026, 2, 26), date(2026, 2, 28), date(2026, 3, 3)]


def test_a_deadline_on_a_day_off_is_reminded_on_the_working_day_before() -> None:
    policy = DeadlinePolicy(due_on_field="period_end")
    planned = planned_timers(CAL, policy, date(2026, 2, 15))  # a Sunday in the holiday
    assert [(p.kind, p.day) for p in planned] == [("on_due", date(2026, 2, 14))]


def test_the_lazy_ladder_armed_one_rung_at_a_time_fires_every_event_of_the_timeline() -> None:
    policy = DeadlinePolicy(due_in_working_days=3, remind_before=[2, 1], remind_every_overdue=2,
                            escalate=[{"after_working_days": 1, "to": "subject.supervisor"},
                                      {"after_working_days": 3, "to": "role:hr@subject.branch"}])
    due, until = date(2026, 2, 13), date(2026, 3, 6)  # across the Spring Festival
    armed = [next_rung(CAL, policy, due)]  # the one timer row a new task gets
    fired = []
    day = date(2026, 2, 9)
    while day <= until:  # a sweep every day, the calendar's days off included
        rung = armed[-1]
        if rung is not None and rung.day <= day:
            fired += due_rungs(CAL, policy, due, rung.day, day)
            armed.append(next_rung(CAL, policy, due, day))
        day += timedelta(days=1)
    assert fired == timeline(CAL, policy, due, until)
    assert armed[0] == PlannedTimer("before_due", 2, date(2026, 2, 11))
    # after the holiday one firing catches up what came due since its rung, in ladder order
    assert [(p.kind, p.level, p.day) for p in due_rungs(CAL, policy, due, date(2026, 2, 14),
                                                        date(2026, 2, 25))] == [
        ("escalation", 0, date(2026, 2, 14)), ("overdue", 1, date(2026, 2, 24)),
        ("escalation", 1, date(2026, 2, 25))]
    # a task overdue for a year arms the next overdue reminder without a walk from level 1
    late = next_rung(CAL, policy, due, date(2027, 2, 12))
    assert late.kind == "overdue" and late.day > date(2027, 2, 12)
    assert overdue_level_on(CAL, policy, due, late.day) == late.level


def test_a_policy_that_wants_nothing_has_no_first_rung() -> None:
    policy = DeadlinePolicy(due_in_working_days=3, remind_on_due=False)
    assert next_rung(CAL, policy, date(2026, 3, 4)) is None
