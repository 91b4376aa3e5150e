"""Plan pages in HTML: forms keep the input and show errors next to fields; print view.

The guided journeys: My work rows open the exact form they name; the plan page leads with the
viewer's next action; signing stands beside the content being signed on the plan page, the case
page and the emailed-link page; the written plan prints as a document."""

from __future__ import annotations

import html
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.demo import Scenario, play_scenario
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.runtime import available_actions
from app.plans import service
from app.plans.content import latest_version
from app.plans.models import ImprovementPlan
from app.plans.schemas import GapDraft
from tests.factories import bank
from tests.links import emailed_link

TODAY = datetime(2026, 3, 2, 9, 0)  # a Monday
ROW = re.compile(r'<li class="work[^"]*" data-form="([^"]*)">\s*<a class="work-link" '
                 r'href="([^"]+)">\s*<span class="work-what">([^<]+)</span>')


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


def play(db: Session, app, employee, reach: str, days_ago: int = 1, *,
         topic: str = "reports_late", hr=None, cycle: int = 1) -> ImprovementPlan:  # noqa: ANN001
    """A plan of the employee's taken as far as `reach` (a demo scenario), today = TODAY."""
    today = TODAY.replace(tzinfo=clock.zone())
    play_scenario(db, app.state.registry,
                  Scenario(employee.employee_no, "月度报表迟报", topic, reach, days_ago, cycle),
                  today, hr)
    clock.freeze(today)
    db.commit()
    return db.exec(select(ImprovementPlan).where(ImprovementPlan.employee_id == employee.id)
                   .order_by(ImprovementPlan.id.desc())).first()


def rows(client) -> list[tuple[str, str, str]]:
    return [(form, html.unescape(href), what) for form, href, what
            in ROW.findall(client.get("/tasks").text)]


def card(page: str) -> str:
    """The next-action card of a plan or case page."""
    start = page.index('id="next-action"')
    return page[start:page.index("</section>", start)]


def test_every_my_work_row_of_a_running_plan_opens_the_form_it_names(
        db, client, people, login, app) -> None:
    plan = play(db, app, people.employee, "in_progress", days_ago=3)
    login(client, people.employee)
    found = rows(client)
    checkpoints = [r for r in found if r[0].endswith("-progress")]
    assert checkpoints and all(re.fullmatch(r"记录 \d+月\d+日 检查点进展", what)
                               for _, _, what in checkpoints)
    assert ("review-form", f"/plans/{plan.id}?do=review", "撰写期末总结并提交评估") in found
    for form, href, _what in found:
        landed = client.get(href)
        assert landed.status_code == 200
        assert f'id="{form}"' in card(landed.text), f"{href} does not lead with {form}"
    # without a row naming it, the review form waits for the period end, folded away
    plain = client.get(f"/plans/{plan.id}").text
    assert 'id="review-form"' not in plain and "?do=review" in plain
    assert 'id="checkpoint-' in card(plain)  # the next checkpoint leads instead


def test_signer_sees_the_version_being_signed_on_every_page_that_offers_the_signature(
        db, client, people, login, app, engine, app_settings) -> None:
    plan = play(db, app, people.employee, "plan_proposed_signed_once")
    version = latest_version(db, plan.id)
    login(client, people.manager_a)
    [(form, href, what)] = rows(client)
    assert (form, href, what) == ("action-sign", f"/plans/{plan.id}?do=action-sign",
                                  "签署计划第 1 版")

    def beside(page: str, form_id: str) -> None:
        summary = page.index('id="content-signed"')
        assert summary < page.index(f'id="{form_id}"')
        shown = page[summary:page.index(f'id="{form_id}"')]
        assert version.content_hash[:12] in shown and "计划第 1 版" in shown
        assert f'href="/plans/{plan.id}/print"' in shown
        assert "每月6日前报送客户经营月报表" in shown  # the gap itself, not only its title

    plan_page = client.get(href).text
    beside(card(plan_page), "action-sign")
    assert 'id="gap-new"' not in plan_page and 'id="step-new"' not in plan_page  # read-only
    assert 'id="gap-new"' in client.get(f"/plans/{plan.id}?edit=1").text  # on request only

    case_page = client.get(f"/instances/{plan.instance_id}").text
    assert f'href="/plans/{plan.id}"' in case_page
    beside(case_page, "action-sign")

    task = db.exec(select(Task).where(Task.instance_id == plan.instance_id,
                                      Task.status == TaskStatus.open)).one()
    case = db.get(WorkflowInstance, plan.instance_id)
    [action] = [a for a in available_actions(db, case, people.manager_a, app.state.registry)
                if a.transition.trigger == "sign"]
    token = emailed_link(db, person=people.manager_a, task=task, instance=case, action=action,
                         spec=app.state.registry.compiled(db, case.definition_id).spec,
                         lifetime=timedelta(days=7))
    db.commit()
    client.cookies.clear()  # someone arriving from the email, not signed in
    beside(client.get(f"/act/{token}").text, "link-action")


def test_history_groups_one_persons_repeated_edits_and_the_written_plan_prints(
        db, client, people, login, app) -> None:
    plan = play(db, app, people.employee, "plan_agreed")
    login(client, people.employee)
    page = client.get(f"/plans/{plan.id}").text
    assert re.search(r"原因已修改</strong> <span class=\"times\"[^>]*>×3</span>", page)
    assert page.count("原因已修改") == 1
    assert 'id="action-begin"' in card(page) and 'id="content-signed"' in card(page)

    written = client.get(f"/plans/{plan.id}/print").text
    version = latest_version(db, plan.id)
    assert "data-print" in written and 'src="/static/print.js"' in written
    assert written.count('class="sign-line"') == 2  # lines to sign by hand
    assert written.count(f"<code>{version.content_hash}</code>") == 3  # two signers + version
    assert f'<code class="hash">{version.content_hash[:12]}</code>' in written
    assert "counter(page)" in written and "第 " in written  # page numbers in the reader's words


def test_hr_decision_card_punctuates_the_review_in_the_readers_language(
        db, client, people, login, app) -> None:
    for cycle, reach, days_ago in ((1, "next_cycle", 75), (2, "next_cycle", 40),
                                   (3, "hr_decision", 3)):  # the demo's third-cycle plan
        plan = play(db, app, people.employee, reach, days_ago, topic="service_attitude",
                    hr=people.hr_a, cycle=cycle)
    assert plan.cycle == 3
    login(client, people.hr_a)
    zh = card(client.get(f"/plans/{plan.id}").text)
    assert 'id="review-decided"' in zh and 'id="action-decide"' in zh
    # full-width colon after the indicator, full-width brackets around the balance kind
    assert re.search(r"<strong>神秘人暗访评分</strong>：\d", zh)
    assert re.search(r'分<span class="muted">（时点）</span>', zh)
    assert "</strong>: " not in zh and "(时点)" not in zh
    en = card(client.get(f"/plans/{plan.id}?lang=en").text)
    assert re.search(r"<strong>神秘人暗访评分</strong>: \d", en)
    assert '<span class="muted"> (Point in time)</span>' in en


def test_the_next_cycles_link_to_the_previous_one_is_bracketed_for_the_reader(
        db, client, people, login, app) -> None:
    follower = play(db, app, people.employee, "next_cycle", days_ago=2)  # cycle 2 is opened
    plan = db.get(ImprovementPlan, follower.previous_plan_id)
    assert follower.cycle == 2 and plan is not None
    login(client, people.employee)
    zh = client.get(f"/plans/{follower.id}").text
    assert f'（<a href="/plans/{plan.id}">上一周期</a>）' in zh
    en = client.get(f"/plans/{follower.id}?lang=en").text
    assert f' (<a href="/plans/{plan.id}">previous cycle</a>)' in en
