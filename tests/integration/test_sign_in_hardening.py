"""Sign-in hardening: lockout, rate limits, session expiry, sign-out, password reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import clock
from app.auth.models import PasswordReset, SignInFailure, WebSession
from app.notifications.models import OutboxMessage
from app.reminders.sweep import sweep
from tests.factories import bank

MORNING = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: outside quiet hours


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


def post_login(client, csrf, person, password: str):
    return client.post("/login", data={"username": person.employee_no, "password": password,
                                       "csrf_token": csrf(client)}, follow_redirects=False)


def test_wrong_password_is_refused_and_counted(db, client, people, login, csrf) -> None:
    login(client, people.employee)
    client.post("/logout", data={"csrf_token": csrf(client)})
    response = post_login(client, csrf, people.employee, "not-the-password")
    assert response.status_code == 401
    assert db.exec(select(SignInFailure)).one().account == people.employee.employee_no.lower()


def test_account_locks_after_repeated_failures_until_the_window_passes(
        db, app, client, people, login, csrf) -> None:
    clock.freeze(MORNING)
    login(client, people.employee)  # gives the person the demo password
    client.post("/logout", data={"csrf_token": csrf(client)})
    for _ in range(app.state.settings.lockout_account_failures):
        assert post_login(client, csrf, people.employee, "wrong").status_code == 401
    locked = post_login(client, csrf, people.employee, "demo")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text or "登录失败次数过多" in locked.text
    clock.advance(timedelta(seconds=app.state.settings.lockout_window_seconds + 1))
    assert post_login(client, csrf, people.employee, "demo").status_code == 303


def test_one_address_failing_on_many_accounts_is_locked_out(
        db, app, client, people, login, csrf) -> None:
    clock.freeze(MORNING)
    app.state.settings.lockout_address_failures = 3
    login(client, people.colleague)
    client.post("/logout", data={"csrf_token": csrf(client)})
    for person in (people.employee, people.manager_a, people.hr_a):
        assert post_login(client, csrf, person, "wrong").status_code == 401
    assert post_login(client, csrf, people.colleague, "demo").status_code == 429


def test_sign_in_attempts_are_rate_limited_per_address_and_account(
        app, client, people, login, csrf) -> None:
    clock.freeze(MORNING)
    app.state.settings.rate_limit_sign_in_per_minute = 2
    app.state.settings.lockout_account_failures = 100
    for _ in range(2):
        assert post_login(client, csrf, people.employee, "wrong").status_code == 401
    assert post_login(client, csrf, people.employee, "wrong").status_code == 429
    clock.advance(timedelta(seconds=61))
    assert post_login(client, csrf, people.employee, "wrong").status_code == 401


def test_session_expires_after_its_maximum_age(app, client, people, login) -> None:
    clock.freeze(MORNING)
    app.state.settings.session_idle_seconds = 24 * 3600
    login(client, people.employee)
    assert client.get("/api/me").status_code == 200
    clock.advance(timedelta(seconds=app.state.settings.session_max_age_seconds + 1))
    assert client.get("/api/me").status_code == 401
    page = client.get("/tasks", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_idle_session_expires(app, client, people, login) -> None:
    clock.freeze(MORNING)
    login(client, people.employee)
    clock.advance(timedelta(seconds=app.state.settings.session_idle_seconds - 30))
    assert client.get("/api/me").status_code == 200
    clock.advance(timedelta(seconds=app.state.settings.session_idle_seconds + 1))
    assert client.get("/api/me").status_code == 401


def test_activity_keeps_the_session_alive_with_at_most_one_write_a_minute(
        app, db, client, people, login) -> None:
    clock.freeze(MORNING)
    login(client, people.employee)
    idle = app.state.settings.session_idle_seconds

    def last_seen() -> datetime:
        db.rollback()  # a fresh read of what the app committed
        return db.exec(select(WebSession.last_seen_at)
                       .where(WebSession.person_id == people.employee.id)).one()

    signed_in = last_seen()
    clock.advance(timedelta(seconds=30))
    assert client.get("/api/me").status_code == 200
    assert last_seen() == signed_in  # under a minute since the last write: no write
    clock.advance(timedelta(seconds=idle - 40))
    assert client.get("/api/me").status_code == 200
    assert last_seen() > signed_in
    clock.advance(timedelta(seconds=idle - 10))  # idle since the visit, not since sign-in
    assert client.get("/api/me").status_code == 200
    clock.advance(timedelta(seconds=idle + 1))
    assert client.get("/api/me").status_code == 401


def test_signing_out_makes_a_copied_cookie_worthless(app, client, people, login, csrf) -> None:
    login(client, people.employee)
    stolen = dict(client.cookies)
    client.post("/logout", data={"csrf_token": csrf(client)})
    with TestClient(app, base_url="http://testserver", cookies=stolen) as thief:
        assert thief.get("/api/me").status_code == 401


@pytest.fixture
def mail_server(app):
    """A real SMTP server on loopback, configured in the app: reset links go only by mail."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    app.state.settings.smtp_host, app.state.settings.smtp_port = "127.0.0.1", sink.port
    yield sink
    sink.stop()


def _reset_link(db, engine, app, client, csrf, person, sink) -> str:  # noqa: ANN001
    """Ask for a reset as a browser would, run the sweep (it resolves the request and sends
    the mail): the link the owner received."""
    clock.freeze(MORNING)
    person.email = "employee@bank.example"
    db.add(person)
    db.commit()
    answer = client.post("/password/forgot", data={"username": person.employee_no,
                                                   "csrf_token": csrf(client)})
    assert answer.status_code == 200
    sweep(engine, clock.now(), settings=app.state.settings, registry=app.state.registry)
    assert [r.to for r in sink.received] == ["employee@bank.example"], "the owner, once"
    return re.search(r"/password/reset/[A-Za-z0-9_\-]+", sink.received[-1].text).group(0)


def test_password_reset_link_works_once_and_ends_old_sessions(
        db, engine, app, client, people, login, csrf, mail_server) -> None:
    login(client, people.employee)
    old_cookies = dict(client.cookies)
    with TestClient(app, base_url="http://testserver") as anon:
        link = _reset_link(db, engine, app, anon, csrf, people.employee, mail_server)
        assert db.exec(select(PasswordReset)).one().token_hash not in link  # stored hashed
        assert anon.get(link).status_code == 200
        short = anon.post(link, data={"password": "short", "repeat": "short",
                                      "csrf_token": csrf(anon)})
        assert short.status_code == 422
        done = anon.post(link, data={"password": "a-new-long-password",
                                     "repeat": "a-new-long-password", "csrf_token": csrf(anon)},
                         follow_redirects=False)
        assert done.status_code == 303
        again = anon.post(link, data={"password": "another-password", "repeat": "another-password",
                                      "csrf_token": csrf(anon)})
        assert again.status_code == 410
        assert post_login(anon, csrf, people.employee, "a-new-long-password").status_code == 303
    with TestClient(app, base_url="http://testserver", cookies=old_cookies) as old:
        assert old.get("/api/me").status_code == 401


def test_password_reset_link_expires(db, engine, app, client, people, csrf,
                                     mail_server) -> None:
    link = _reset_link(db, engine, app, client, csrf, people.employee, mail_server)
    clock.advance(timedelta(minutes=app.state.settings.password_reset_lifetime_minutes + 1))
    assert client.get(link).status_code == 410


def test_reset_request_does_not_reveal_whether_the_account_exists(db, client, people,
                                                                  csrf) -> None:
    known = client.post("/password/forgot", data={"username": people.employee.employee_no,
                                                   "csrf_token": csrf(client)})
    unknown = client.post("/password/forgot", data={"username": "nobody-here",
                                                     "csrf_token": csrf(client)})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text


def test_reset_requests_are_rate_limited(app, client, people, csrf) -> None:
    clock.freeze(MORNING)
    app.state.settings.rate_limit_reset_per_minute = 2
    token = csrf(client)
    codes = [client.post("/password/forgot", data={"username": "x", "csrf_token": token})
             .status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_new_forms_refuse_posts_without_the_csrf_token(client, people, login) -> None:
    assert client.post("/password/forgot", data={"username": "x"}).status_code == 403
    login(client, people.employee)
    assert client.post("/account/tokens", data={"name": "ci", "scope": "read"}).status_code == 403


def test_reset_mail_goes_out_by_smtp_and_the_kept_copy_has_no_link(
        db, engine, app, client, people, csrf, mail_server) -> None:
    link = _reset_link(db, engine, app, client, csrf, people.employee, mail_server)
    db.expire_all()
    kept = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "password_reset")).one()
    assert kept.transport == "smtp" and link not in kept.body_text
    assert "/password/reset/…" in kept.body_text
    assert client.get(link).status_code == 200
