"""HR's actions from the dashboard: remind now, reassign, bulk with confirmation; all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.engine.models import AuditEvent, Task, TaskStatus, WorkflowInstance
from app.errors import NotAllowed, NotFound, ValidationFailed
from app.notifications.models import OutboxMessage
from app.reports import actions
from tests.report_helpers import World, build


@pytest.fixture
def world(db: Session, registry) -> World:
    return build(db, registry)


def events(db: Session, instance_id: int, trigger: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                 AuditEvent.trigger == trigger)
                        .order_by(AuditEvent.seq)))


def manager_task(db: Session, world: World) -> Task:
    return next(t for t in world.tasks(db, world.p1) if t.assignee_id == world.bank.manager_a.id)


def test_remind_now_queues_a_reminder_through_the_outbox_and_audits_it(db, world):
    task = manager_task(db, world)
    assert actions.remind_now(db, actor=world.bank.hr_a, task_id=task.id) == 1
    db.commit()
    message = db.exec(select(OutboxMessage).where(OutboxMessage.task_id == task.id)).one()
    assert message.recipient_id == world.bank.manager_a.id
    assert message.kind == "overdue"
    [event] = events(db, world.p1.instance_id, "remind_now")
    assert event.actor_id == world.bank.hr_a.id
    assert event.payload["task_id"] == task.id and event.payload["to"] == [message.recipient_id]


def test_remind_now_twice_within_the_hour_sends_once(db, world):
    task = manager_task(db, world)
    actions.remind_now(db, actor=world.bank.hr_a, task_id=task.id)
    assert actions.remind_now(db, actor=world.bank.hr_a, task_id=task.id) == 0
    clock.advance(timedelta(hours=1))
    assert actions.remind_now(db, actor=world.bank.hr_a, task_id=task.id) == 1
    db.commit()
    assert len(events(db, world.p1.instance_id, "remind_now")) == 2


def test_remind_now_on_a_group_task_reaches_every_holder(db, world):
    assert actions.remind_now(db, actor=world.hr_ho, task_id=world.group_task.id) == 1
    message = db.exec(select(OutboxMessage).where(
        OutboxMessage.task_id == world.group_task.id)).one()
    assert message.recipient_id == world.bank.hr_a.id


def test_hr_may_act_only_inside_their_scope(db, world):
    task_b = world.tasks(db, world.p4)[0]
    with pytest.raises(NotFound):
        actions.remind_now(db, actor=world.bank.hr_a, task_id=task_b.id)
    with pytest.raises(NotFound):
        actions.reassign(db, actor=world.bank.hr_a, task_id=task_b.id,
                         to_person_id=world.bank.president_a.id, reason="休假")
    with pytest.raises(NotAllowed):
        actions.remind_now(db, actor=world.bank.manager_a, task_id=manager_task(db, world).id)


def test_reassign_hands_the_step_to_a_person_who_may_then_act(db, world):
    task = manager_task(db, world)
    instance = db.get(WorkflowInstance, task.instance_id)
    president = world.bank.president_a
    assert "record_gap" not in [a.transition.trigger
                                for a in runtime.available_actions(db, instance, president)]
    actions.reassign(db, actor=world.bank.hr_a, task_id=task.id, to_person_id=president.id,
                     reason="支行长休假两周")
    db.commit()
    assert task.assignee_id == president.id
    [event] = events(db, instance.id, "reassign")
    assert event.comment == "支行长休假两周"
    assert event.payload["from"]["assignee_id"] == world.bank.manager_a.id
    assert event.payload["to"] == president.id
    assert "record_gap" in [a.transition.trigger
                            for a in runtime.available_actions(db, instance, president)]
    runtime.fire(db, instance, "record_gap", president)
    db.commit()
    assert instance.state == "gap_identified"


def test_a_group_task_reassigned_to_a_person_waits_on_that_person_only(db, world):
    actions.reassign(db, actor=world.bank.hr_a, task_id=world.group_task.id,
                     to_person_id=world.bank.colleague.id, reason="由同事代办")
    db.commit()
    db.refresh(world.group_task)
    assert (world.group_task.assignee_id, world.group_task.group_kind,
            world.group_task.org_unit_id) == (world.bank.colleague.id, None, None)


def test_reassign_needs_a_reason_and_a_person_in_scope(db, world):
    task = manager_task(db, world)
    with pytest.raises(ValidationFailed) as missing:
        actions.reassign(db, actor=world.bank.hr_a, task_id=task.id,
                         to_person_id=world.bank.president_a.id, reason="  ")
    assert "reason" in missing.value.field_errors
    with pytest.raises(ValidationFailed) as outside:
        actions.reassign(db, actor=world.bank.hr_a, task_id=task.id,
                         to_person_id=world.bank.employee_b.id, reason="休假")
    assert "to" in outside.value.field_errors
    assert events(db, world.p1.instance_id, "reassign") == []


def test_signatures_and_closed_steps_are_not_reassigned(db, world):
    task = manager_task(db, world)
    task.kind = "sign_off"
    with pytest.raises(ValidationFailed):
        actions.reassign(db, actor=world.bank.hr_a, task_id=task.id,
                         to_person_id=world.bank.president_a.id, reason="休假")
    with pytest.raises(ValidationFailed):
        actions.reassign(db, actor=world.bank.hr_a, task_id=world.closed_task.id,
                         to_person_id=world.bank.president_a.id, reason="休假")


def test_bulk_remind_previews_then_applies_only_with_the_confirmation(db, world):
    mine = [t.id for t in world.tasks(db, world.p1)] + [t.id for t in world.tasks(db, world.p2)]
    foreign = world.tasks(db, world.p4)[0].id
    selected = [*mine, foreign, world.closed_task.id]
    preview = actions.bulk_preview(db, actor=world.bank.hr_a, action="remind",
                                   task_ids=selected)
    assert sorted(line.task_id for line in preview.doable) == sorted(mine)
    refused = {line.task_id for line in preview.lines if line.refusal is not None}
    assert refused == {foreign, world.closed_task.id}
    assert db.exec(select(OutboxMessage)).all() == []
    with pytest.raises(ValidationFailed):
        actions.bulk_apply(db, actor=world.bank.hr_a, action="remind", task_ids=selected,
                           confirmation="")
    with pytest.raises(ValidationFailed):
        actions.bulk_apply(db, actor=world.bank.hr_a, action="remind", task_ids=selected[:-1],
                           confirmation=preview.confirmation)
    done = actions.bulk_apply(db, actor=world.bank.hr_a, action="remind", task_ids=selected,
                              confirmation=preview.confirmation)
    db.commit()
    assert done.done == len(mine)
    assert done.messages == len(db.exec(select(OutboxMessage)).all()) >= len(mine)
    audited = events(db, world.p1.instance_id, "remind_now")
    assert audited and all(e.payload.get("bulk") for e in audited)


def test_bulk_reassign_moves_every_confirmed_step_with_its_reason(db, world):
    ids = [t.id for t in world.tasks(db, world.p2) if t.kind == "act"]
    preview = actions.bulk_preview(db, actor=world.bank.hr_a, action="reassign", task_ids=ids,
                                   to_person_id=world.bank.president_a.id, reason="集中处理")
    actions.bulk_apply(db, actor=world.bank.hr_a, action="reassign", task_ids=ids,
                       to_person_id=world.bank.president_a.id, reason="集中处理",
                       confirmation=preview.confirmation)
    db.commit()
    moved = db.exec(select(Task).where(Task.id.in_(ids))).all()
    assert {t.assignee_id for t in moved} == {world.bank.president_a.id}
    assert len(events(db, world.p2.instance_id, "reassign")) == len(ids)
    assert all(t.status == TaskStatus.open for t in moved)
