"""My work: tasks addressed to me, to my seats, and to people who delegated to me."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app import clock
from app.engine import runtime
from app.engine.models import Task, TaskStatus
from app.org.models import Delegation
from app.tasks.service import my_tasks
from tests.factories import bank

WEB_WORKFLOWS = Path(__file__).resolve().parent.parent / "data" / "web_workflows"


@pytest.fixture
def workflows_dir() -> Path:
    """These tests run on the small web-test workflow."""
    return WEB_WORKFLOWS


def _case(db, subject, title="案例", at_hr=False):
    instance = runtime.start(db, workflow="case_review", subject=subject, title=title)
    if at_hr:
        runtime.fire(db, instance, "submit", subject)
        supervisor = db.get(type(subject), subject.supervisor_id)
        runtime.fire(db, instance, "review", supervisor, {"outcome": "met"})
    db.commit()
    return instance


def test_my_work_lists_the_employees_task_after_start(db, client, login):
    b = bank(db)
    instance = _case(db, b.employee, title="张三的改进计划")
    login(client, b.employee)

    page = client.get("/tasks")

    assert page.status_code == 200
    assert "张三的改进计划" in page.text
    # the row is the action's verb and opens the case at that action's form
    assert "<span class=\"work-what\">提交</span>" in page.text
    assert f'href="/instances/{instance.id}?do=action-submit"' in page.text


def test_my_work_shows_labels_in_english_for_an_english_reader(db, client, login):
    b = bank(db)
    b.employee.locale = "en"
    db.add(b.employee)
    _case(db, b.employee)
    login(client, b.employee)
    page = client.get("/tasks")
    assert '<span class="work-what">Submit</span>' in page.text
    assert "My work" in page.text


def test_hr_sees_a_task_addressed_to_their_role_and_other_branches_do_not(db, client, login):
    b = bank(db)
    instance = _case(db, b.employee, title="待人力审核", at_hr=True)
    login(client, b.hr_a)
    assert "待人力审核" in client.get("/tasks").text
    api = client.get("/api/tasks").json()
    assert [row["instance_id"] for row in api] == [instance.id]
    assert api[0]["state"] == "hr_review"

    db.expire_all()
    assert my_tasks(db_session=db, person=db.get(type(b.hr_b), b.hr_b.id)) == []


def test_delegate_sees_the_principals_task_on_their_behalf(db, client, login):
    b = bank(db)
    instance = _case(db, b.employee)
    runtime.fire(db, instance, "submit", b.employee)
    db.add(Delegation(principal_id=b.manager_a.id, delegate_id=b.colleague.id,
                      starts_on=clock.today(), ends_on=clock.today() + timedelta(days=3)))
    db.commit()
    login(client, b.colleague)

    rows = client.get("/api/tasks").json()

    assert [(r["instance_id"], r["on_behalf_of_id"]) for r in rows] == [
        (instance.id, b.manager_a.id)
    ]
    assert "甲支行长" in client.get("/tasks").text


def test_delegation_for_another_workflow_does_not_hand_over_the_task(db, registry):
    b = bank(db)
    instance = _case(db, b.employee)
    runtime.fire(db, instance, "submit", b.employee)
    db.add(Delegation(principal_id=b.manager_a.id, delegate_id=b.colleague.id,
                      starts_on=clock.today(), ends_on=clock.today(), workflow="promotion"))
    db.flush()
    assert my_tasks(db_session=db, person=b.colleague) == []


def test_overdue_tasks_come_first_then_by_due_date(db, registry):
    b = bank(db)
    later = _case(db, b.employee, title="later")
    undated = _case(db, b.employee, title="undated")
    late = _case(db, b.employee, title="late")
    now = clock.now()
    due = {later.id: now + timedelta(days=5), undated.id: None, late.id: now - timedelta(days=1)}
    for task in db.exec(select(Task).where(Task.status == TaskStatus.open)):
        task.due_at = due[task.instance_id]
    db.flush()

    titles = [t.instance.title for t in my_tasks(db_session=db, person=b.employee)]

    assert titles == ["late", "later", "undated"]
    assert [t.overdue for t in my_tasks(db_session=db, person=b.employee)] == [True, False, False]

