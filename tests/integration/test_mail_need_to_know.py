"""Mail and need-to-know through HTTP: no reset link can be read in the demo mailbox, delivery
problems are shown by need-to-know, imports and reset requests do not tell who exists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import clock
from app.auth.models import PasswordReset
from app.notifications.models import MessageStatus, OutboxMessage
from app.plans import service
from app.plans.schemas import GapDraft
from app.reminders.sweep import sweep
from tests.factories import bank

MORNING = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: outside quiet hours


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


def outbox(db: Session, **values) -> OutboxMessage:
    row = OutboxMessage(send_after=MORNING, **values)
    db.add(row)
    db.commit()
    return row


def test_a_password_reset_can_never_be_read_in_the_demo_mailbox(
        db, engine, app, app_settings, client, login, csrf, people) -> None:
    """The takeover chain of issue 19: ask a reset for HR, read it as admin, follow it."""
    app_settings.demo_mode = True  # the demo: no SMTP host, the built-in mailbox
    clock.freeze(MORNING)
    form = client.get("/password/forgot")
    assert "只通过电子邮件发送" in form.text or "only by e-mail" in form.text
    answer = client.post("/password/forgot", data={"username": people.hr_a.employee_no,
                                                   "csrf_token": csrf(client)})
    assert answer.status_code == 200
    sweep(engine, clock.now(), settings=app_settings, registry=app.state.registry)
    assert db.exec(select(PasswordReset)).all() == []
    # A reset mail kept with a live link by an older version, and one still waiting: neither
    # is ever shown, and the waiting one is never written (no token is minted for it).
    old = outbox(db, key="r:old", kind="password_reset", recipient_id=people.hr_a.id,
                 status=MessageStatus.sent, transport="mailbox", subject="重置密码",
                 body_text="http://127.0.0.1:8000/password/reset/live-token-of-hr")
    waiting = PasswordReset(account=people.hr_a.employee_no, person_id=people.hr_a.id,
                            created_at=MORNING, expires_at=datetime(2027, 3, 11, tzinfo=UTC))
    db.add(waiting)
    db.commit()
    outbox(db, key="r:new", kind="password_reset", recipient_id=people.hr_a.id,
           params={"reset_id": waiting.id})
    sweep(engine, clock.now(), settings=app_settings, registry=app.state.registry)
    db.expire_all()
    assert db.get(PasswordReset, waiting.id).token_hash is None
    for person in (people.admin, people.hr_a):
        client.cookies.clear()
        login(client, person)
        assert "live-token-of-hr" not in client.get("/mailbox").text
        assert client.get(f"/mailbox/{old.id}").status_code == 404


def test_delivery_problems_are_shown_by_need_to_know(db, app, client, login, csrf,
                                                    people) -> None:
    plan = service.start_plan(db, employee=people.employee, initiator=people.employee,
                              title="甲行的计划", gaps=[GapDraft(requirement="r", actual="a")])
    db.commit()
    a_case = outbox(db, key="f:a", kind="overdue", recipient_id=people.employee.id,
                    instance_id=plan.instance_id, status=MessageStatus.failed,
                    subject="甲行的计划 逾期", to_address=people.employee.email,
                    last_error="550 refused")
    b_digest = outbox(db, key="f:b", kind="digest", recipient_id=people.employee_b.id,
                      status=MessageStatus.failed, subject="乙行的摘要",
                      to_address=people.employee_b.email, last_error="550 refused")
    seen, retried = {}, {}
    for person in (people.hr_a, people.hr_b, people.admin):
        client.cookies.clear()
        login(client, person)
        page = client.get("/outbox/failures")
        assert page.status_code == 200
        seen[person.id] = {s for s in ("甲行的计划", "乙行的摘要", people.employee.email,
                                       people.employee_b.email) if s in page.text}
        retried[person.id] = [client.post(f"/outbox/{row.id}/retry", data={
            "csrf_token": csrf(client)}, follow_redirects=False).status_code
            for row in (a_case, b_digest)]
    assert seen[people.hr_a.id] == {"甲行的计划", people.employee.email}
    assert seen[people.hr_b.id] == {"乙行的摘要", people.employee_b.email}
    assert seen[people.admin.id] == set()  # administrators run the system, not careers
    assert retried == {people.hr_a.id: [303, 404], people.hr_b.id: [404, 303],
                       people.admin.id: [404, 404]}


def test_an_import_answers_the_same_for_unknown_and_not_yours(db, client, login, csrf,
                                                             people) -> None:
    login(client, people.hr_b)  # HR of branch B: branch A's employee is not theirs
    text = (f"employee_no,year,quarter,level\n{people.employee.employee_no},2025,1,2\n"
            f"NOBODY,2025,1,2\n").encode()
    answer = client.post("/api/assessments/import/quarterly", files={
        "file": ("levels.csv", text, "text/csv")}, headers={"X-CSRF-Token": csrf(client)})
    assert answer.status_code == 200 and answer.json()["imported"] is False  # nothing imported
    problems = [r["problem"] for r in answer.json()["rejected"]]
    assert problems == [
        f"no one with employee number '{people.employee.employee_no}' whose results you may "
        "record", "no one with employee number 'NOBODY' whose results you may record"]
    nul = client.post("/api/assessments/import/quarterly", files={"file": (
        "levels.csv", b"employee_no,year,quarter,level,note\nNOBODY,2025,1,2,a\x00b\n",
        "text/csv")}, headers={"X-CSRF-Token": csrf(client)})
    assert nul.json()["imported"] is False and "控制字符" in nul.text


def test_a_reset_request_does_the_same_work_whether_the_account_exists_or_not(
        db, engine, app, app_settings, people) -> None:
    """No timing is measured (tests never assert timings): the same statements are run."""
    app_settings.smtp_host = "smtp.bank.example"  # resets are offered; nothing is sent here
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        statements.append(statement)

    def requested(username: str) -> tuple[str, list[str]]:
        with TestClient(app, base_url="http://testserver") as anon:
            form = anon.get("/password/forgot").text
            csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
            statements.clear()
            sa.event.listen(engine, "before_cursor_execute", record)
            try:
                page = anon.post("/password/forgot", data={"username": username,
                                                           "csrf_token": csrf})
            finally:
                sa.event.remove(engine, "before_cursor_execute", record)
            return page.text, list(statements)

    known_page, known = requested(people.hr_a.employee_no)
    unknown_page, unknown = requested("nobody-at-all")
    assert known_page == unknown_page
    assert known == unknown and any(s.lstrip().upper().startswith("INSERT") for s in known)
    assert {r.account for r in db.exec(select(PasswordReset))} == {
        people.hr_a.employee_no, "nobody-at-all"}
