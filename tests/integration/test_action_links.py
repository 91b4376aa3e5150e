"""Action links: opening changes nothing, confirming acts once, and every dead end explains."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.engine.models import AuditEvent, WorkflowInstance
from app.engine.registry import Registry
from app.notifications.models import ActionLink, OutboxMessage
from app.org.models import Delegation
from app.reminders.sweep import sweep
from tests.factories import bank
from tests.reminder_helpers import CHECKPOINT_WORKFLOWS, at

TOKEN = re.compile(r"/act/([A-Za-z0-9_\-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def workflows_dir() -> Path:
    return CHECKPOINT_WORKFLOWS


@pytest.fixture
def org(db: Session, registry: Registry, app):
    b = bank(db)
    registry.sync(db)
    db.commit()
    return b


@pytest.fixture
def app_settings(app_settings):  # noqa: ANN001, ANN201
    """Demo mode without a mail server: mail is kept in the built-in mailbox, where these
    tests read each person's links."""
    app_settings.demo_mode = True
    return app_settings


def start_check(db: Session, org) -> WorkflowInstance:
    at(date(2026, 3, 2))
    instance = runtime.start(db, workflow="checkpoint_check", subject=org.employee,
                             title="三月检查点")
    db.commit()
    return instance


def fire(db: Session, instance: WorkflowInstance, trigger: str, actor, payload=None) -> None:
    runtime.fire(db, instance, trigger, actor, payload or {})
    db.commit()


def link_for(db: Session, engine, registry, app_settings, person, day: date) -> str:
    """Run the sweep that day (mail kept in the mailbox) and take the person's newest link."""
    sweep(engine, at(day), settings=app_settings, registry=registry)
    messages = db.exec(select(OutboxMessage).where(OutboxMessage.recipient_id == person.id)
                       .order_by(OutboxMessage.id.desc())).all()
    for message in messages:
        found = TOKEN.findall(message.body_text)
        if found:
            return found[0]
    raise AssertionError(f"no action link was sent to {person.name}")


def confirm_page(client, token: str):
    return client.get(f"/act/{token}?lang=en")


def session_csrf(client) -> str:
    """This browser session's CSRF token (every form of the session carries the same one)."""
    return CSRF.search(client.get("/login").text).group(1)


def post_link(client, token: str, **data):
    """Submit the confirmation form as a browser would (with the session's CSRF token)."""
    page = client.get(f"/act/{token}")
    match = CSRF.search(page.text)
    csrf = match.group(1) if match else session_csrf(client)
    return client.post(f"/act/{token}", data={"csrf_token": csrf, **data},
                       follow_redirects=False)


def events(db: Session, instance: WorkflowInstance) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                        .order_by(AuditEvent.seq)))


def state_of(db: Session, instance: WorkflowInstance) -> str:
    db.expire_all()
    return db.get(WorkflowInstance, instance.id).state


def test_opening_a_link_shows_the_case_and_changes_nothing(
        db, engine, registry, app_settings, org, client) -> None:
    instance = start_check(db, org)
    token = link_for(db, engine, registry, app_settings, org.employee, date(2026, 3, 3))
    before = len(events(db, instance))

    for _ in range(3):  # a mail scanner, a preview, the person: all only look
        page = confirm_page(client, token)
        assert page.status_code == 200
    assert re.search(r"Your next action</span>Record evidence</h1>", page.text)
    assert "三月检查点" in page.text and "Waiting for evidence" in page.text
    assert "“Waiting for evidence” to “Supervisor check”" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert state_of(db, instance) == "waiting_evidence"
    assert len(events(db, instance)) == before
    link = db.exec(select(ActionLink)).one()
    assert link.used_at is None
    assert token not in link.token_hash and len(link.token_hash) == 64  # stored hashed only

    unknown = confirm_page(client, "x" * 43)
    assert unknown.status_code == 404 and "This link is not valid" in unknown.text
    looked = client.head(f"/act/{token}")  # a link checker asks without reading
    assert (looked.status_code, looked.content) == (200, b"")
    assert looked.headers["cache-control"] == "no-store"
    assert client.head("/act/" + "x" * 43).status_code == 404
    assert state_of(db, instance) == "waiting_evidence" and len(events(db, instance)) == before


def test_confirming_acts_once_as_the_person_the_link_was_sent_to(
        db, engine, registry, app_settings, org, client) -> None:
    instance = start_check(db, org)
    token = link_for(db, engine, registry, app_settings, org.employee, date(2026, 3, 3))
    forged = client.post(f"/act/{token}", data={"comment": "x"})  # without the page's token
    assert forged.status_code == 403
    assert state_of(db, instance) == "waiting_evidence"

    done = post_link(client, token, comment="已上传")
    assert done.status_code == 200, done.text
    assert state_of(db, instance) == "supervisor_check"
    last = events(db, instance)[-1]
    assert (last.trigger, last.actor_id, last.comment) == ("record_evidence", org.employee.id,
                                                          "已上传")

    replay = post_link(client, token, comment="again")
    assert replay.status_code == 410
    assert state_of(db, instance) == "supervisor_check"
    page = confirm_page(client, token)
    assert page.status_code == 410
    assert "This link was already used on Mar 3, 2026 10:00\u202fAM." in page.text
    assert "took “Record evidence” on Mar 3, 2026 10:00\u202fAM." in page.text


def test_an_expired_link_says_so(db, engine, registry, app_settings, org, client) -> None:
    start_check(db, org)
    token = link_for(db, engine, registry, app_settings, org.employee, date(2026, 3, 3))
    clock.advance(timedelta(hours=app_settings.action_link_lifetime_hours, seconds=1))
    page = confirm_page(client, token)
    assert page.status_code == 410
    assert "This link expired on Mar 10, 2026 10:00\u202fAM." in page.text
    assert 'action="/act/' not in page.text
    assert post_link(client, token).status_code == 410


def test_a_link_overtaken_by_another_action_shows_who_acted_and_when(
        db, engine, registry, app_settings, org, client) -> None:
    instance = start_check(db, org)
    fire(db, instance, "record_evidence", org.employee)
    token = link_for(db, engine, registry, app_settings, org.manager_a, date(2026, 3, 3))
    at(date(2026, 3, 3), 11, 30)
    fire(db, instance, "withdraw", org.hr_a, {"reason": "员工调岗"})

    page = confirm_page(client, token)
    assert page.status_code == 410
    assert "The case has moved on since this email was sent." in page.text
    assert "甲人事 took “Withdraw” on Mar 3, 2026 11:30\u202fAM." in page.text
    assert post_link(client, token).status_code == 410
    assert state_of(db, instance) == "withdrawn"


def test_a_link_of_a_reassigned_step_says_who_has_it_now(
        db, engine, registry, app_settings, org, client) -> None:
    instance = start_check(db, org)
    fire(db, instance, "record_evidence", org.employee)
    token = link_for(db, engine, registry, app_settings, org.manager_a, date(2026, 3, 3))
    org.employee.supervisor_id = org.president_a.id  # the employee now reports elsewhere
    db.commit()

    page = confirm_page(client, token)
    assert page.status_code == 410
    assert "This step is no longer yours to take; it now waits on 甲行长." in page.text
    assert post_link(client, token).status_code == 410
    assert state_of(db, instance) == "supervisor_check"


def test_a_final_decision_needs_a_sign_in_even_from_a_link(
        db, engine, registry, app_settings, org, client, login) -> None:
    instance = start_check(db, org)
    fire(db, instance, "record_evidence", org.employee)
    fire(db, instance, "confirm", org.manager_a)
    token = link_for(db, engine, registry, app_settings, org.hr_a, date(2026, 3, 3))

    page = confirm_page(client, token)
    assert page.status_code == 200
    assert "needs you to sign in, even from a link" in page.text
    assert f'action="/act/{token}"' not in page.text
    anonymous = client.post(f"/act/{token}", data={"csrf_token": session_csrf(client)},
                            follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/act/{token}"
    assert state_of(db, instance) == "hr_review"

    login(client, org.manager_a)  # someone else, signed in
    assert "This link was sent to 甲人事. Sign in as that person to use it." in confirm_page(
        client, token).text
    assert post_link(client, token).status_code == 403
    assert state_of(db, instance) == "hr_review"

    client.cookies.clear()
    login(client, org.hr_a)
    done = post_link(client, token, comment="同意")
    assert done.status_code == 200, done.text
    assert state_of(db, instance) == "accepted"


def test_a_delegate_acts_through_the_link_on_behalf_of_the_absent_supervisor(
        db, engine, registry, app_settings, org, client) -> None:
    instance = start_check(db, org)
    db.add(Delegation(principal_id=org.manager_a.id, delegate_id=org.colleague.id,
                      starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)))
    db.commit()
    fire(db, instance, "record_evidence", org.employee)
    token = link_for(db, engine, registry, app_settings, org.colleague, date(2026, 3, 3))
    assert "on behalf of 甲支行长" in confirm_page(client, token).text

    assert post_link(client, token).status_code == 200
    last = events(db, instance)[-1]
    assert (last.trigger, last.actor_id, last.on_behalf_of_id) == (
        "confirm", org.colleague.id, org.manager_a.id)
