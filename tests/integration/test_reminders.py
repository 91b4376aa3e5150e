"""An improvement plan nobody touches: reminders on the Chinese working-day calendar, by SMTP."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.notifications.models import MessageStatus, OutboxMessage
from app.reminders.sweep import sweep
from tests.reminder_helpers import DAYS_OFF_2027, at, load_2027, run_days


def start_plan(db: Session, org) -> WorkflowInstance:
    at(date(2027, 1, 25))
    load_2027(db, org.hr_a)
    instance = runtime.start(db, workflow="improvement_plan", subject=org.employee,
                             title="报表迟报")
    db.commit()
    return instance


def test_an_untouched_plan_is_reminded_on_working_days_through_spring_festival(
        db, engine, registry, org, sink) -> None:
    start_plan(db, org)
    run_days(engine, registry, sink.settings(), date(2027, 1, 25), date(2027, 3, 26))

    # Draft: due in 5 working days from Mon 25 Jan = the make-up Sunday 31 Jan; reminder one
    # working day before; on the day; every 2 working days overdue (the festival is skipped,
    # the make-up Saturday 20 Feb counts); escalation to the supervisor after 3 working days.
    overdue = [date(2027, 2, d) for d in (2, 4, 16, 18, 20, 23, 25)] + [
        date(2027, 3, d) for d in (1, 3, 5, 9, 11, 15, 17, 19, 23, 25)]
    expected = []
    for person in (org.employee, org.manager_a):
        expected += [(person.email, "before_due", date(2027, 1, 29)),
                     (person.email, "on_due", date(2027, 1, 31))]
        expected += [(person.email, "overdue", day) for day in overdue]
    expected.append((org.manager_a.email, "escalation", date(2027, 2, 3)))

    received = sink.summary()
    assert sorted(received) == sorted(expected)
    assert len(received) == len(set(received))  # nothing twice
    assert not [r for r in received if r[2] in DAYS_OFF_2027]


def test_after_downtime_each_task_gets_one_reminder_not_a_flood(
        db, engine, registry, org, sink) -> None:
    start_plan(db, org)
    settings = sink.settings()
    sweep(engine, at(date(2027, 1, 25)), settings=settings, registry=registry)
    # The scheduler is down from 26 Jan until 18 Feb: the before-due, on-due and four overdue
    # reminders and the escalation all fell due meanwhile.
    sweep(engine, at(date(2027, 2, 18)), settings=settings, registry=registry)
    assert sorted(sink.summary()) == sorted([
        (org.employee.email, "overdue", date(2027, 2, 18)),
        (org.manager_a.email, "overdue", date(2027, 2, 18)),
        (org.manager_a.email, "escalation", date(2027, 2, 18)),
    ])
    # …and the rhythm goes on from there: the next overdue reminder two working days later.
    run_days(engine, registry, settings, date(2027, 2, 19), date(2027, 2, 22))
    later = [r for r in sink.summary() if r[2] > date(2027, 2, 18)]
    assert sorted(later) == sorted([(org.employee.email, "overdue", date(2027, 2, 20)),
                                    (org.manager_a.email, "overdue", date(2027, 2, 20))])


def test_quiet_hours_hold_messages_until_the_morning(db, engine, registry, org, sink) -> None:
    start_plan(db, org)
    settings = sink.settings()
    sweep(engine, at(date(2027, 1, 25)), settings=settings, registry=registry)
    night = sweep(engine, at(date(2027, 1, 29), 0, 5), settings=settings, registry=registry)
    assert (night.queued, night.sent) == (2, 0)
    sweep(engine, at(date(2027, 1, 29), 7, 59), settings=settings, registry=registry)
    assert sink.summary() == []
    sweep(engine, at(date(2027, 1, 29), 8, 0), settings=settings, registry=registry)
    assert sorted(kind for _, kind, _ in sink.summary()) == ["before_due", "before_due"]
    assert {m.status for m in db.exec(select(OutboxMessage))} == {MessageStatus.sent}


def test_serve_sweeps_in_the_background_only_when_the_scheduler_is_enabled(
        app_settings, engine) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.reminders.jobs import JOB_ID

    quiet = create_app(app_settings.model_copy(update={"scheduler_enabled": False}), engine)
    with TestClient(quiet):
        assert quiet.state.scheduler is None
    busy = create_app(app_settings.model_copy(update={"scheduler_enabled": True,
                                                       "scheduler_interval_seconds": 3600}),
                      engine)
    with TestClient(busy):
        scheduler = busy.state.scheduler
        assert scheduler.running
        job = scheduler.get_job(JOB_ID)
        assert job.trigger.interval.total_seconds() == 3600
    assert busy.state.scheduler is None and not scheduler.running


def test_the_standalone_scheduler_sweeps_once_on_request(db, database_url, registry, org,
                                                          tmp_path) -> None:
    from typer.testing import CliRunner

    from app.config import get_settings
    from app.scheduler_cli import app as cli

    start_plan(db, org)
    env = {"STEPWISE_DATABASE_URL": database_url, "STEPWISE_VAR_DIR": str(tmp_path),
           "STEPWISE_SMTP_HOST": ""}
    get_settings.cache_clear()
    try:
        at(date(2027, 1, 29), 10)
        result = CliRunner().invoke(cli, ["scheduler", "--once"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "2 queued" in result.output and "2 sent" in result.output
