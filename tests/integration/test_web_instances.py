"""The instance page: who may see it, its timeline, and acting on it through forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.instances.access import can_view, visible_filter
from tests.factories import bank

WEB_WORKFLOWS = Path(__file__).resolve().parent.parent / "data" / "web_workflows"


@pytest.fixture
def workflows_dir() -> Path:
    """These tests run on the small web-test workflow."""
    return WEB_WORKFLOWS


def _case(db, subject, title="张三的案例"):
    instance = runtime.start(db, workflow="case_review", subject=subject, title=title)
    db.commit()
    return instance


def _submitted(db, b):
    instance = _case(db, b.employee)
    runtime.fire(db, instance, "submit", b.employee, {"comment": "请审核"})
    db.commit()
    return instance


def english(client) -> None:
    """Switch this browser session to English (the language link on every page)."""
    client.get("/api/me?lang=en")


def _state(db, instance) -> str:
    db.expire_all()
    return db.get(WorkflowInstance, instance.id).state


def test_instance_page_is_hidden_from_another_branchs_hr(db, client, login):
    b = bank(db)
    instance = _case(db, b.employee)
    login(client, b.hr_b)

    page = client.get(f"/instances/{instance.id}")
    api = client.get(f"/api/instances/{instance.id}")

    assert page.status_code == 404
    assert "张三的案例" not in page.text
    assert api.status_code == 404
    assert client.get(f"/api/instances/{instance.id}/events").status_code == 404


@pytest.mark.parametrize("who", ["employee", "manager_a", "president_a", "hr_a"])
def test_instance_is_visible_to_subject_chain_and_unit_scope(db, registry, who):
    b = bank(db)
    instance = _case(db, b.employee)
    person = getattr(b, who)
    assert can_view(db, person, instance)
    visible = db.exec(select(WorkflowInstance.id).where(visible_filter(db, person))).all()
    assert list(visible) == [instance.id]


@pytest.mark.parametrize("who", ["colleague", "hr_b", "employee_b", "manager_b", "leader_a",
                                 "admin"])
def test_instance_is_invisible_to_people_outside(db, registry, who):
    """A committee seat alone gives no scope, and running the system gives no right to read
    careers: administrators are separate from HR."""
    b = bank(db)
    instance = _case(db, b.employee)
    person = getattr(b, who)
    assert not can_view(db, person, instance)
    assert db.exec(select(WorkflowInstance.id).where(visible_filter(db, person))).all() == []


def test_instance_page_shows_state_diagram_timeline_and_my_actions(db, client, login):
    b = bank(db)
    instance = _submitted(db, b)
    login(client, b.manager_a)

    page = client.get(f"/instances/{instance.id}")

    assert page.status_code == 200
    assert "张三的案例" in page.text
    assert "已提交" in page.text  # current state, in the reader's language
    assert "<svg" in page.text
    assert 'class="node current"' in page.text  # the current state is highlighted
    assert "请审核" in page.text  # the comment in the timeline
    assert f'action="/instances/{instance.id}/actions/review"' in page.text
    assert f'action="/instances/{instance.id}/actions/send_back"' in page.text
    assert 'name="expected_version" value="2"' in page.text
    assert 'name="csrf_token"' in page.text
    assert "达到要求" in page.text  # choice labels of the outcome field


def test_firing_an_action_through_the_form_moves_the_state_and_shows_it(db, client, csrf, login):
    b = bank(db)
    instance = _submitted(db, b)
    login(client, b.manager_a)
    english(client)

    response = client.post(
        f"/instances/{instance.id}/actions/review",
        data={"csrf_token": csrf(client), "expected_version": "2", "outcome": "met",
              "score": "90", "comment": "进步明显"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/instances/{instance.id}"
    assert _state(db, instance) == "hr_review"
    page = client.get(f"/instances/{instance.id}")
    assert "Review: done." in page.text  # the flash
    timeline = page.text[page.text.index('class="timeline"'):]
    assert "Submitted → With HR" in re.sub(r"<[^>]+>", "", timeline)
    assert "进步明显" in timeline
    assert b.manager_a.name in timeline


def test_validation_error_re_renders_the_form_with_field_errors_and_typed_text(
    db, client, csrf, login
):
    b = bank(db)
    instance = _submitted(db, b)
    login(client, b.manager_a)
    english(client)

    response = client.post(
        f"/instances/{instance.id}/actions/review",
        data={"csrf_token": csrf(client), "expected_version": "2", "outcome": "",
              "score": "150", "comment": "我写的<意见>"},
    )

    assert response.status_code == 422
    form = re.search(r'<form[^>]*id="action-review".*?</form>', response.text, re.S).group(0)
    assert "Please correct the marked fields." in form
    assert "This field is required." in form
    assert "At most 100." in form
    assert "我写的&lt;意见&gt;</textarea>" in form  # typed text kept, and escaped
    assert 'value="150"' in form
    assert _state(db, instance) == "submitted"


def test_stale_version_says_someone_else_acted_first_and_shows_the_fresh_state(
    db, client, csrf, login
):
    b = bank(db)
    instance = _case(db, b.employee)
    login(client, b.employee)
    english(client)
    page = client.get(f"/instances/{instance.id}")
    assert 'name="expected_version" value="1"' in page.text
    runtime.fire(db, db.get(WorkflowInstance, instance.id), "submit", b.employee)
    db.commit()  # someone (here: another tab) acted meanwhile

    response = client.post(
        f"/instances/{instance.id}/actions/submit",
        data={"csrf_token": csrf(client), "expected_version": "1", "comment": "again"},
    )

    assert response.status_code == 409
    assert "Someone else acted on this case first." in response.text
    assert "Submitted" in response.text
    assert _state(db, instance) == "submitted"


def test_action_of_someone_else_is_refused_with_403_page(db, client, csrf, login):
    b = bank(db)
    instance = _submitted(db, b)
    login(client, b.employee)
    english(client)
    response = client.post(
        f"/instances/{instance.id}/actions/review",
        data={"csrf_token": csrf(client), "expected_version": "2", "outcome": "met"},
    )
    assert response.status_code == 403
    assert "You may not take this action on this case." in response.text
    assert _state(db, instance) == "submitted"


def test_action_not_possible_now_shows_the_page_with_a_message(db, client, csrf, login):
    b = bank(db)
    instance = _submitted(db, b)
    login(client, b.manager_a)
    english(client)
    response = client.post(
        f"/instances/{instance.id}/actions/close",
        data={"csrf_token": csrf(client), "reason": "x"},
    )
    assert response.status_code == 409
    assert "is not possible while the case is in" in response.text


def test_language_switch_shows_the_page_in_english_and_sticks(db, client, login):
    b = bank(db)
    instance = _submitted(db, b)
    login(client, b.manager_a)
    english = client.get(f"/instances/{instance.id}?lang=en")
    assert "Your next action" in english.text and "Submitted" in english.text
    again = client.get(f"/instances/{instance.id}")
    assert "Your next action" in again.text
    chinese = client.get(f"/instances/{instance.id}?lang=zh_CN")
    assert "已提交" in chinese.text and "Your next action" not in chinese.text


def test_unknown_instance_and_malformed_id_are_plain_404_pages(db, client, login):
    b = bank(db)
    db.commit()
    login(client, b.employee)
    assert client.get("/instances/999999").status_code == 404
    page = client.get("/instances/not-a-number")
    assert page.status_code == 404
    assert "Traceback" not in page.text


def test_delegate_acts_on_behalf_and_the_timeline_says_so(db, client, csrf, login):
    from datetime import timedelta

    from app import clock
    from app.org.models import Delegation

    b = bank(db)
    instance = _submitted(db, b)
    db.add(Delegation(principal_id=b.manager_a.id, delegate_id=b.colleague.id,
                      starts_on=clock.today(), ends_on=clock.today() + timedelta(days=1)))
    db.commit()
    login(client, b.colleague)
    english(client)

    page = client.get(f"/instances/{instance.id}")
    assert page.status_code == 200
    assert f'name="on_behalf_of_id" value="{b.manager_a.id}"' in page.text
    response = client.post(
        f"/instances/{instance.id}/actions/review",
        data={"csrf_token": csrf(client), "expected_version": "2", "outcome": "not_met",
              "on_behalf_of_id": str(b.manager_a.id)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert _state(db, instance) == "hr_review"
    # the principal's task is done, so the case leaves the delegate's sight: back to My work
    assert response.headers["location"] == "/tasks"
    assert "no longer on your list" in client.get("/tasks").text
    client.post("/logout", data={"csrf_token": csrf(client)})
    login(client, b.employee)
    english(client)
    page = client.get(f"/instances/{instance.id}")
    timeline = page.text[page.text.index('class="timeline"'):]
    assert (f'{b.colleague.name}</span> <span class="behalf">on behalf of {b.manager_a.name}'
            in timeline)


def test_openapi_documents_error_answers_of_actions(client):
    spec = client.get("/openapi.json").json()
    answers = spec["paths"]["/api/instances/{instance_id}/actions/{trigger}"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(answers)
