"""No page or API shows a case to someone without need-to-know: tries from the outside."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import clock
from app.engine import access
from app.engine.models import Task, WorkflowInstance
from app.org.models import Delegation
from app.plans import service
from app.plans.schemas import GapDraft
from app.promotions.grades import hold_title
from tests.factories import bank
from tests.promotion_helpers import GOOD_FACTS, provincial_bank

SECRET_TITLE = "机密：柜员差错率偏高"
IN_PF_WINDOW = datetime(2026, 3, 10, 10, 0)  # a private-finance application window is open


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


@pytest.fixture
def plan(db: Session, people, client):
    """Branch A's employee's plan (the client has started the app, so definitions exist)."""
    made = service.start_plan(db, employee=people.employee, initiator=people.employee,
                              title=SECRET_TITLE,
                              gaps=[GapDraft(requirement="差错率低于0.1%", actual="差错率0.5%")])
    db.commit()
    return made


def as_person(app, login, person) -> TestClient:
    other = TestClient(app, base_url="http://testserver")
    other.__enter__()
    login(other, person)
    return other


@pytest.fixture
def outsiders(app, login, people):
    """Another branch's HR, a colleague with the same supervisor, another branch's employee,
    and an administrator (administrators are not HR)."""
    clients = [as_person(app, login, p) for p in
               (people.hr_b, people.colleague, people.employee_b, people.admin)]
    yield clients
    for c in clients:
        c.__exit__(None, None, None)


def test_insiders_see_the_plan(app, login, people, plan) -> None:
    for person in (people.employee, people.manager_a, people.hr_a):
        insider = as_person(app, login, person)
        assert insider.get(f"/api/plans/{plan.id}").status_code == 200
        assert SECRET_TITLE in insider.get("/plans").text
        insider.__exit__(None, None, None)


def test_outsiders_find_nothing_by_id(outsiders, plan) -> None:
    for other in outsiders:
        for path in (f"/api/plans/{plan.id}", f"/plans/{plan.id}", f"/plans/{plan.id}/print",
                     f"/api/plans/{plan.id}/versions", f"/api/instances/{plan.instance_id}",
                     f"/api/instances/{plan.instance_id}/events",
                     f"/instances/{plan.instance_id}", f"/api/plans/{plan.id}/evidence/1",
                     f"/plans/{plan.id}/dossier"):
            answer = other.get(path, follow_redirects=False)
            assert answer.status_code == 404, (path, answer.status_code)
            assert SECRET_TITLE not in answer.text


def test_outsiders_lists_leave_the_plan_out(outsiders, plan) -> None:
    for other in outsiders:
        listed = other.get("/api/plans").json()
        assert plan.id not in [item["id"] for item in listed["items"]]
        assert SECRET_TITLE not in other.get("/plans").text
        assert SECRET_TITLE not in other.get("/tasks").text
        tasks = other.get("/api/tasks").json()
        assert plan.instance_id not in [t.get("instance_id") for t in tasks]
        searched = other.get("/api/plans", params={"search": "机密"}).json()
        assert searched["total"] == 0


def test_outsiders_cannot_act_on_the_plan(outsiders, plan, csrf) -> None:
    for other in outsiders:
        answer = other.post(f"/api/plans/{plan.id}/gaps",
                            json={"requirement": "x", "actual": "y"},
                            headers={"X-CSRF-Token": csrf(other)})
        assert answer.status_code == 404, answer.text


def test_hr_dashboard_lists_only_its_own_scope(app, login, people, plan) -> None:
    hr_b = as_person(app, login, people.hr_b)
    answer = hr_b.get("/api/reports/plans")
    if answer.status_code == 404:
        pytest.skip("no HR dashboard in this build")
    assert plan.id not in answer.json()["ids"]
    assert SECRET_TITLE not in hr_b.get("/reports/plans").text
    hr_b.__exit__(None, None, None)
    hr_a = as_person(app, login, people.hr_a)
    assert plan.id in hr_a.get("/api/reports/plans").json()["ids"]
    hr_a.__exit__(None, None, None)


def test_there_is_no_mailbox_outside_demo_mode(app, login, people) -> None:
    for person in (people.employee, people.hr_a, people.admin):
        other = as_person(app, login, person)
        assert other.get("/mailbox").status_code == 404
        assert other.get("/mailbox/1").status_code == 404
        assert 'href="/mailbox"' not in other.get("/tasks").text
        other.__exit__(None, None, None)


def test_promotion_case_is_hidden_from_colleagues(db, app, login, csrf) -> None:
    org = provincial_bank(db)
    hold_title(db, person=org.employee_b, scheme="bocom_private_finance_2002", title="cm",
               on=date(2024, 1, 1))
    db.commit()
    clock.freeze(IN_PF_WINDOW)
    applicant = as_person(app, login, org.employee_b)
    mine = applicant.get("/api/promotions/requests").headers["ETag"]
    case = applicant.post("/api/promotions/requests", json={
        "scheme": "bocom_private_finance_2002", "target_title": "senior_cm",
        "facts": GOOD_FACTS}, headers={"X-CSRF-Token": csrf(applicant), "If-Match": mine})
    assert case.status_code == 201, case.text
    case = case.json()
    applicant.__exit__(None, None, None)
    colleague = as_person(app, login, org.colleague)
    assert colleague.get(f"/api/promotions/requests/{case['id']}").status_code == 404
    assert colleague.get(f"/promotions/cases/{case['id']}").status_code == 404
    assert colleague.get(f"/api/instances/{case['instance_id']}").status_code == 404
    assert case["id"] not in [c["id"] for c in colleague.get("/api/promotions/requests").json()]
    colleague.__exit__(None, None, None)


def test_one_case_check_agrees_with_the_list_filter(db, people, plan) -> None:
    """can_view (one statement, subqueries) and the list filter (prefetched) are one rule:
    subject, above the subject, HR in scope, a task, a seat's task, a delegate's task."""
    instance = service.instance_of(db, plan)
    db.add(Task(instance_id=instance.id, state=instance.state, assignee_id=people.manager_b.id))
    db.add(Task(instance_id=instance.id, state=instance.state, group_kind="committee",
                group_name="leadership_group", org_unit_id=people.branch_a.id))
    db.add(Delegation(principal_id=people.manager_b.id, delegate_id=people.colleague.id,
                      starts_on=clock.today(), ends_on=clock.today() + timedelta(days=1)))
    db.add(Delegation(principal_id=people.manager_b.id, delegate_id=people.employee_b.id,
                      starts_on=clock.today() - timedelta(days=3),
                      ends_on=clock.today() - timedelta(days=1)))
    db.flush()
    everyone = [people.president_a, people.manager_a, people.employee, people.colleague,
                people.hr_a, people.hr_b, people.employee_b, people.manager_b, people.leader_a,
                people.admin]
    seen = {}
    for person in everyone:
        listed = db.exec(select(WorkflowInstance.id).where(
            WorkflowInstance.id == instance.id, access.visible_filter(db, person))).first()
        seen[person.id] = access.can_view(db, person, instance)
        assert seen[person.id] == (listed is not None), person.name
    assert [p.name for p in everyone if seen[p.id]] == [
        p.name for p in (people.president_a, people.manager_a, people.employee,
                         people.colleague, people.hr_a, people.manager_b, people.leader_a)]
