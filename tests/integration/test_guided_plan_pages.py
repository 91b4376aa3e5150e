"""The guided journeys over HTTP: My work rows open the exact form they name; the plan page
leads with the viewer's next action; signing stands beside the content being signed on the
plan page, the case page and the emailed-link page; the written plan prints as a document."""

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
from app.notifications.action_links import mint
from app.plans.content import latest_version
from app.plans.models import ImprovementPlan
from tests.factories import bank

TODAY = datetime(2026, 3, 2, 9, 0)  # a Monday
ROW = re.compile(r'<li class="work[^"]*" data-form="([^"]*)">\s*<a class="work-link" '
                 r'href="([^"]+)">\s*<span class="work-what">([^<]+)</span>')


@pytest.fixture(scope="module")
def workflows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plan workflow and its data only."""
    source = Path(__file__).resolve().parents[2] / "workflows"
    target = tmp_path_factory.mktemp("guided_wf")
    for name in ("organisation.yaml", "improvement_plan.yaml", "cause_catalogue.yaml"):
        shutil.copy(source / name, target)
    return target


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


def play(db: Session, app, employee, reach: str, days_ago: int = 1) -> ImprovementPlan:
    """A plan of the employee's taken as far as `reach` (a demo scenario), today = TODAY."""
    today = TODAY.replace(tzinfo=clock.zone())
    play_scenario(db, app.state.registry,
                  Scenario(employee.employee_no, "月度报表迟报", "reports_late", reach, days_ago),
                  today)
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
    token = mint(db, person=people.manager_a, task=task, instance=case, action=action,
                 spec=app.state.registry.compiled(db, case.definition_id).spec,
                 now=clock.now(), lifetime=timedelta(days=7))
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
