"""Who hears what: state changes cancel timers, groups, delegates, the ladder, final results."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.calendar import service as calendar_service
from app.engine import runtime
from app.engine.calendar import local_date
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from app.notifications.outbox import set_digest
from app.org import service as org_service
from app.org.models import Delegation
from app.reminders.models import ReminderTimer, TimerStatus
from app.reminders.service import timers_of
from app.reminders.sweep import sweep
from tests.factories import person
from tests.reminder_helpers import CHECKPOINT_WORKFLOWS, at, run_days


@pytest.fixture
def workflows_dir() -> Path:
    return CHECKPOINT_WORKFLOWS




def start_check(db: Session, org, day: date = date(2026, 3, 2)) -> WorkflowInstance:
    """A checkpoint check started on a Monday of an ordinary March (2026 notice is known)."""
    at(day)
    instance = runtime.start(db, workflow="checkpoint_check", subject=org.employee,
                             title="三月检查点")
    db.commit()
    return instance


def fire(db: Session, instance: WorkflowInstance, trigger: str, actor, payload=None) -> None:
    runtime.fire(db, instance, trigger, actor, payload or {})
    db.commit()


def ladder(db: Session, instance: WorkflowInstance) -> list[tuple[str, str, int, date, str]]:
    """The instance's timer rows: (task state, kind, level, day, status) in the order due."""
    db.expire_all()
    states = {t.id: t.state for t in db.exec(select(Task).where(
        Task.instance_id == instance.id))}
    return [(states[t.task_id], t.kind, t.level, local_date(t.due_at), t.status)
            for t in timers_of(db, instance.id)]


def pending(db: Session, instance: WorkflowInstance) -> list[tuple[str, str, int, date, str]]:
    return [row for row in ladder(db, instance) if row[4] == TimerStatus.pending]


def test_an_open_task_keeps_one_timer_its_next_rung_armed_when_the_last_one_fires(
        db, engine, registry, org, sink) -> None:
    # Evidence due Wed 4 Mar: a reminder the day before, on the day, every 2 working days
    # overdue, and the supervisor on the 2nd working day overdue (Fri 6, with overdue #1).
    instance = start_check(db, org)
    assert ladder(db, instance) == [
        ("waiting_evidence", "before_due", 1, date(2026, 3, 3), TimerStatus.pending)]
    sweep(engine, at(date(2026, 3, 3)), settings=sink.settings(), registry=registry)
    assert ladder(db, instance) == [
        ("waiting_evidence", "before_due", 1, date(2026, 3, 3), TimerStatus.done),
        ("waiting_evidence", "on_due", 0, date(2026, 3, 4), TimerStatus.pending)]
    run_days(engine, registry, sink.settings(), date(2026, 3, 4), date(2026, 3, 6))
    assert pending(db, instance) == [
        ("waiting_evidence", "overdue", 2, date(2026, 3, 10), TimerStatus.pending)]
    assert len(ladder(db, instance)) == 4  # one row per firing and the one armed
    assert sink.summary() == [
        (org.employee.email, "before_due", date(2026, 3, 3)),
        (org.employee.email, "on_due", date(2026, 3, 4)),
        (org.employee.email, "overdue", date(2026, 3, 6)),
        (org.manager_a.email, "escalation", date(2026, 3, 6)),
    ]


def test_acting_deletes_the_closed_tasks_timer_and_arms_the_new_tasks_first_rung(
        db, engine, registry, org, sink) -> None:
    instance = start_check(db, org)
    sweep(engine, at(date(2026, 3, 3)), settings=sink.settings(), registry=registry)
    at(date(2026, 3, 3), 15)
    fire(db, instance, "record_evidence", org.employee)
    # the evidence task keeps its fired timer, its pending one is gone (not kept cancelled);
    # the check due Thu 5 Mar is reminded on Wed 4
    assert ladder(db, instance) == [
        ("waiting_evidence", "before_due", 1, date(2026, 3, 3), TimerStatus.done),
        ("supervisor_check", "before_due", 1, date(2026, 3, 4), TimerStatus.pending)]
    run_days(engine, registry, sink.settings(), date(2026, 3, 4), date(2026, 3, 6))
    assert {(r[0], r[1]) for r in sink.summary()} == {
        (org.employee.email, "before_due"), (org.manager_a.email, "before_due"),
        (org.manager_a.email, "on_due"), (org.manager_a.email, "overdue"),
        (org.president_a.email, "escalation"),
    }
    fire(db, instance, "confirm", org.manager_a)
    fire(db, instance, "accept", org.hr_a, {"comment": "符合要求"})
    assert pending(db, instance) == []
    assert TimerStatus.cancelled not in {row[4] for row in ladder(db, instance)}


def test_a_group_task_reminds_every_holder_of_the_role_at_that_unit(
        db, engine, registry, org, sink) -> None:
    instance = start_check(db, org)
    fire(db, instance, "record_evidence", org.employee)
    fire(db, instance, "confirm", org.manager_a)
    second_hr = person(db, org.branch_a, name="甲人事二")
    org_service.assign(db, person=second_hr, kind="role", name="hr", unit=org.branch_a)
    db.commit()
    # HR review: due in 3 working days from Mon 2 Mar = Thu 5 Mar, reminder 2 days before.
    run_days(engine, registry, sink.settings(), date(2026, 3, 2), date(2026, 3, 4))
    assert sorted(sink.summary()) == sorted([
        (org.hr_a.email, "before_due", date(2026, 3, 3)),
        (second_hr.email, "before_due", date(2026, 3, 3)),
    ])


def test_reminders_reach_the_delegate_and_escalation_the_absent_persons_own_supervisor(
        db, engine, registry, org, sink) -> None:
    instance = start_check(db, org)
    db.add(Delegation(principal_id=org.manager_a.id, delegate_id=org.colleague.id,
                      starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31), reason="出差"))
    db.commit()
    fire(db, instance, "record_evidence", org.employee)
    # Supervisor check: due Wed 4 Mar; one working day overdue escalates to the supervisor's
    # supervisor: the president, the absent manager's own supervisor (not the delegate's).
    run_days(engine, registry, sink.settings(), date(2026, 3, 2), date(2026, 3, 5))
    assert sorted(sink.summary()) == sorted([
        (org.manager_a.email, "before_due", date(2026, 3, 3)),
        (org.colleague.email, "before_due", date(2026, 3, 3)),
        (org.manager_a.email, "on_due", date(2026, 3, 4)),
        (org.colleague.email, "on_due", date(2026, 3, 4)),
        (org.manager_a.email, "overdue", date(2026, 3, 5)),
        (org.colleague.email, "overdue", date(2026, 3, 5)),
        (org.president_a.email, "escalation", date(2026, 3, 5)),
    ])
    to_delegate = sink.to(org.colleague.email)[0]
    assert "甲支行长" in to_delegate.text  # "you receive this as the delegate of …"


def test_the_subject_hears_the_final_result(db, engine, registry, org, sink) -> None:
    instance = start_check(db, org)
    fire(db, instance, "record_evidence", org.employee)
    fire(db, instance, "confirm", org.manager_a)
    fire(db, instance, "accept", org.hr_a, {"comment": "符合要求"})
    sweep(engine, at(date(2026, 3, 2), 16), settings=sink.settings(), registry=registry)
    final = [r for r in sink.received if r.kind == MessageKind.final_result]
    assert [r.to for r in final] == [org.employee.email]
    assert "已通过" in final[0].message["Subject"]
    assert db.exec(select(ReminderTimer).where(
        ReminderTimer.status == TimerStatus.pending)).all() == []


def test_an_hr_correction_moves_open_deadlines_and_their_timers(
        db, engine, registry, org) -> None:
    instance = start_check(db, org)
    task = db.exec(select(Task).where(Task.instance_id == instance.id,
                                      Task.status == TaskStatus.open)).one()
    assert local_date(task.due_at) == date(2026, 3, 4)  # Mon + 2 working days
    sweep(engine, at(date(2026, 3, 2), 11), registry=registry)
    # The branch closes on Tuesday 3 March (a local holiday HR enters by hand).
    calendar_service.correct_day(db, by=org.hr_a, day=date(2026, 3, 3), is_working_day=False,
                                 note="分行停业", now=clock.now())
    db.commit()
    db.expire_all()
    task = db.get(Task, task.id)
    assert local_date(task.due_at) == date(2026, 3, 5)
    before = db.exec(select(ReminderTimer).where(ReminderTimer.task_id == task.id,
                                                 ReminderTimer.kind == "before_due")).one()
    assert local_date(before.due_at) == date(2026, 3, 4)


def test_an_hr_correction_re_arms_the_pending_rung_after_the_ones_already_fired(
        db, engine, registry, org, sink) -> None:
    instance = start_check(db, org)
    sweep(engine, at(date(2026, 3, 3)), settings=sink.settings(), registry=registry)
    # The branch closes on Wednesday 4 March, the due day: the deadline moves to Thursday.
    calendar_service.correct_day(db, by=org.hr_a, day=date(2026, 3, 4), is_working_day=False,
                                 note="分行停业", now=clock.now())
    db.commit()
    assert ladder(db, instance) == [
        ("waiting_evidence", "before_due", 1, date(2026, 3, 3), TimerStatus.done),
        ("waiting_evidence", "on_due", 0, date(2026, 3, 5), TimerStatus.pending)]
    run_days(engine, registry, sink.settings(), date(2026, 3, 4), date(2026, 3, 5))
    assert sink.summary() == [(org.employee.email, "before_due", date(2026, 3, 3)),
                              (org.employee.email, "on_due", date(2026, 3, 5))]


def test_a_daily_digest_gathers_a_persons_messages_into_one_email(
        db, engine, registry, org, sink) -> None:
    set_digest(db, person=org.employee, daily_digest=True, now=clock.now())
    db.commit()
    start_check(db, org)
    runtime.start(db, workflow="checkpoint_check", subject=org.employee, title="客户回访检查点")
    db.commit()
    settings = sink.settings()
    sweep(engine, at(date(2026, 3, 3), 7), settings=settings, registry=registry)
    assert sink.summary() == []  # both before-due reminders wait for the digest time (08:00)
    sweep(engine, at(date(2026, 3, 3), 8, 30), settings=settings, registry=registry)
    sweep(engine, at(date(2026, 3, 3), 10), settings=settings, registry=registry)
    assert sink.summary() == [(org.employee.email, "digest", date(2026, 3, 3))]
    digest = sink.received[0]
    assert "三月检查点" in digest.text and "客户回访检查点" in digest.text
    assert digest.text.count("/act/") == 2
    sweep(engine, at(date(2026, 3, 4), 8, 30), settings=settings, registry=registry)
    assert [kind for _, kind, _ in sink.summary()] == ["digest", "digest"]
    held = db.exec(select(OutboxMessage).where(OutboxMessage.kind != "digest")).all()
    assert {m.status for m in held} == {MessageStatus.digested}
