"""Plan pages in HTML: forms keep the input and show errors next to fields; print view."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session

from app.plans import service
from app.plans.schemas import GapDraft
from tests.factories import bank


@pytest.fixture(scope="module")
def workflows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the plan workflow and its data: these pages need nothing else."""
    source = Path(__file__).resolve().parents[2] / "workflows"
    target = tmp_path_factory.mktemp("plan_wf")
    for name in ("organisation.yaml", "improvement_plan.yaml", "cause_catalogue.yaml"):
        shutil.copy(source / name, target)
    return target


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def version(page: str) -> str:
    return re.search(r'name="expected_version" value="(\d+)"', page).group(1)


def make_plan(db: Session, people, registry_app) -> int:
    plan = service.start_plan(db, employee=people.employee, initiator=people.employee,
                              title="客户大堂等候时间长", gaps=[GapDraft(
                                  requirement="客户等候不超过15分钟", actual="高峰期等候40分钟")])
    db.commit()
    return plan.id


def test_employee_opens_a_plan_from_the_form(db, client, people, login) -> None:
    login(client, people.employee)
    page = client.get("/plans/new")
    assert page.status_code == 200 and 'name="requirement"' in page.text
    bad = client.post("/plans", data={"csrf_token": token(page.text), "title": "技能测试未达标",
                                      "employee_id": str(people.employee.id),
                                      "requirement": "", "actual": "测试得分65分",
                                      "source": "skills_test"})
    assert bad.status_code == 422
    assert "测试得分65分" in bad.text and "技能测试未达标" in bad.text
    assert re.search(r'f-requirement-error">[^<]+<', bad.text)
    good = client.post("/plans", data={"csrf_token": token(page.text), "title": "技能测试未达标",
                                       "employee_id": str(people.employee.id),
                                       "requirement": "技能测试达到二级", "actual": "测试得分65分",
                                       "source": "skills_test", "baseline": "65",
                                       "target": "80"}, follow_redirects=False)
    assert good.status_code == 303
    plan_page = client.get(good.headers["location"])
    assert "技能测试达到二级" in plan_page.text and "草稿" in plan_page.text


def test_plan_page_form_error_keeps_input_next_to_field(db, client, people, login, app) -> None:
    plan_id = make_plan(db, people, app)
    login(client, people.employee)
    page = client.get(f"/plans/{plan_id}")
    assert page.status_code == 200
    response = client.post(f"/plans/{plan_id}/gaps", data={
        "csrf_token": token(page.text), "expected_version": version(page.text),
        "requirement": "差错为零", "actual": "", "baseline": "abc", "source": "self_inspection"})
    assert response.status_code == 422
    assert 'id="gap-new"' in response.text and "差错为零" in response.text
    assert re.search(r'f-baseline-error">[^<]+<', response.text)


def test_stale_page_gets_the_someone_else_acted_message(db, client, people, login, app) -> None:
    plan_id = make_plan(db, people, app)
    login(client, people.employee)
    page = client.get(f"/plans/{plan_id}")
    service.add_gap(db, plan_id=plan_id, actor=people.manager_a,
                    gap=GapDraft(requirement="服务评价", actual="多次差评"))
    db.commit()
    response = client.post(f"/plans/{plan_id}/actions/record_gap", data={
        "csrf_token": token(page.text), "expected_version": version(page.text)})
    assert response.status_code == 409
    assert "多次差评" in response.text  # the fresh content is shown with the message


def test_other_branch_gets_not_found_for_plan_pages(db, client, people, login, app) -> None:
    plan_id = make_plan(db, people, app)
    login(client, people.hr_b)
    assert client.get(f"/plans/{plan_id}").status_code == 404
    assert client.get(f"/plans/{plan_id}/print").status_code == 404
    listing = client.get("/plans")
    assert "客户大堂等候时间长" not in listing.text


def test_print_view_shows_the_written_plan(db, client, people, login, app) -> None:
    plan_id = make_plan(db, people, app)
    login(client, people.manager_a)
    page = client.get(f"/plans/{plan_id}/print")
    assert page.status_code == 200
    assert "客户等候不超过15分钟" in page.text and "print.css" in page.text


def test_script_in_plan_content_is_shown_as_text(db, client, people, login, app) -> None:
    plan = service.start_plan(db, employee=people.employee, initiator=people.employee,
                              title="<script>alert(1)</script>", gaps=[GapDraft(
                                  requirement="<img src=x onerror=alert(1)>", actual="x")])
    db.commit()
    login(client, people.employee)
    page = client.get(f"/plans/{plan.id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text and "<img src=x" not in page.text
