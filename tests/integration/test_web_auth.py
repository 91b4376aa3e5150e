"""Signing in and out, sessions, and the demo accounts on the sign-in page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import bank

WEB_WORKFLOWS = Path(__file__).resolve().parent.parent / "data" / "web_workflows"


@pytest.fixture
def workflows_dir() -> Path:
    """These tests run on the small web-test workflow."""
    return WEB_WORKFLOWS


def test_wrong_password_shows_error_and_keeps_username(db, client, csrf, login):
    b = bank(db)
    login(client, b.employee)  # gives the employee the demo password
    client.post("/logout", data={"csrf_token": csrf(client)})

    response = client.post(
        "/login",
        data={"username": b.employee.employee_no, "password": "wrong", "csrf_token": csrf(client)},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 401
    assert "The employee number or the password is not correct." in response.text
    assert f'value="{b.employee.employee_no}"' in response.text
    assert 'value="wrong"' not in response.text
    assert client.get("/api/me").status_code == 401


def test_unknown_employee_number_gets_the_same_error(db, client, csrf):
    bank(db)
    db.commit()
    response = client.post(
        "/login",
        data={"username": "NOBODY", "password": "demo", "csrf_token": csrf(client)},
        headers={"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 401
    assert "员工号或密码不正确。" in response.text


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_opens_my_work(db, client, login):
    b = bank(db)
    response = login(client, b.employee)

    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert response.headers["location"] == "/tasks"
    page = client.get("/tasks")
    assert page.status_code == 200
    assert b.employee.name in page.text


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(db, client, csrf, login):
    b = bank(db)
    first = client.get("/workflows", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/workflows"
    login(client, b.employee)
    client.post("/logout", data={"csrf_token": csrf(client)})

    back = client.post("/login", data={"username": b.employee.employee_no, "password": "demo",
                                       "next": "/workflows", "csrf_token": csrf(client)},
                       follow_redirects=False)
    assert back.headers["location"] == "/workflows"
    client.post("/logout", data={"csrf_token": csrf(client)})
    away = client.post("/login", data={"username": b.employee.employee_no, "password": "demo",
                                       "next": "//evil.example/", "csrf_token": csrf(client)},
                       follow_redirects=False)
    assert away.headers["location"] == "/tasks"


def test_sign_out_ends_the_session(db, client, csrf, login):
    b = bank(db)
    login(client, b.employee)
    response = client.post("/logout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/tasks", follow_redirects=False).headers["location"].startswith("/login")


def test_api_without_session_answers_401_with_detail(client):
    response = client.get("/api/tasks", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Please sign in to continue."


def test_inactive_person_cannot_sign_in(db, client, csrf, login):
    b = bank(db)
    login(client, b.colleague)
    client.post("/logout", data={"csrf_token": csrf(client)})
    b.colleague.active = False
    db.add(b.colleague)
    db.commit()
    response = client.post("/login", data={"username": b.colleague.employee_no,
                                           "password": "demo", "csrf_token": csrf(client)})
    assert response.status_code == 401


def test_demo_accounts_are_not_listed_outside_demo_mode(db, client, demo_password_hash):
    b = bank(db)
    b.employee.password_hash = demo_password_hash
    db.commit()
    page = client.get("/login")
    assert b.employee.employee_no not in page.text
    assert "demo-accounts" not in page.text


def test_demo_mode_lists_every_account_with_post_unit_and_roles(
    db, app_settings, engine, demo_password_hash
):
    from fastapi.testclient import TestClient

    from app.main import create_app

    b = bank(db)
    for person in (b.employee, b.hr_a, b.manager_a):
        person.password_hash = demo_password_hash
    db.commit()
    app_settings.demo_mode = True
    with TestClient(create_app(app_settings, engine)) as client:
        page = client.get("/login", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    for person in (b.employee, b.hr_a, b.manager_a):
        assert person.employee_no in page.text
    assert b.colleague.employee_no not in page.text  # no password: cannot sign in
    assert "HR · Branch A" in page.text
    assert "<code>demo</code>" in page.text  # the password, shown as what one types
    # one person to start with for each side of the process, then everyone by side
    start = page.text.split("Start with one of these")[1].split("demo-all")[0]
    assert [side for side in ("Employee", "Supervisor", "HR") if f'tag">{side}<' in start] == [
        "Employee", "Supervisor", "HR"]
    assert all(f"<h3>{group}</h3>" in page.text for group in ("Employees", "Supervisors", "HR"))


def test_a_password_hashed_at_the_old_argon2_cost_signs_in_and_is_rehashed_at_todays(
    db, client, csrf
):
    from argon2 import PasswordHasher
    from sqlmodel import select

    from app.auth.passwords import needs_rehash, verify_password
    from app.org.models import Person

    b = bank(db)
    # argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes): how passwords were hashed before
    old = PasswordHasher().hash("demo")
    b.employee.password_hash = old
    db.add(b.employee)
    db.commit()

    response = client.post("/login", data={"username": b.employee.employee_no,
                                           "password": "demo", "csrf_token": csrf(client)},
                           follow_redirects=False)

    assert response.status_code == 303
    db.expire_all()
    stored = db.exec(select(Person.password_hash).where(Person.id == b.employee.id)).one()
    assert stored != old and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "demo") and not needs_rehash(stored)


def test_the_argon2_cost_follows_the_settings(monkeypatch):
    from app.auth.passwords import hash_password, needs_rehash, verify_password
    from app.config import get_settings

    today = hash_password("s3cret-Pass")
    monkeypatch.setenv("STEPWISE_PASSWORD_HASH_MEMORY_KIB", "8192")
    monkeypatch.setenv("STEPWISE_PASSWORD_HASH_TIME_COST", "1")
    get_settings.cache_clear()
    try:
        cheaper = hash_password("s3cret-Pass")
        assert cheaper.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
        assert verify_password(today, "s3cret-Pass") and needs_rehash(today)
        assert not needs_rehash(cheaper)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
