"""Personal API tokens: shown once, stored hashed, scoped, revocable, never for HTML forms."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import ApiToken
from tests.factories import bank


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


def make_token(client, csrf, scope: str) -> str:
    page = client.post("/account/tokens", data={"name": f"script {scope}", "scope": scope,
                                                "csrf_token": csrf(client)})
    assert page.status_code == 200, page.text
    return re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)


@pytest.fixture
def anonymous(app):
    with TestClient(app, base_url="http://testserver") as other:
        yield other


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_token_is_shown_once_and_stored_hashed(db, client, people, login, csrf) -> None:
    login(client, people.employee)
    secret = make_token(client, csrf, "read")
    assert db.exec(select(ApiToken)).one().token_hash != secret
    assert secret not in client.get("/account/tokens").text


def test_read_token_reads_but_may_not_write(client, anonymous, people, login, csrf) -> None:
    login(client, people.employee)
    secret = make_token(client, csrf, "read")
    me = anonymous.get("/api/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["employee_no"] == people.employee.employee_no
    write = anonymous.put("/api/preferences", json={"daily_digest": True}, headers=bearer(secret))
    assert write.status_code == 403


def test_write_token_writes_without_csrf(client, anonymous, people, login, csrf) -> None:
    login(client, people.employee)
    secret = make_token(client, csrf, "write")
    write = anonymous.put("/api/preferences", json={"daily_digest": True}, headers=bearer(secret))
    assert write.status_code == 200, write.text


def test_revoked_or_unknown_token_is_refused(db, client, anonymous, people, login,
                                             csrf) -> None:
    login(client, people.employee)
    secret = make_token(client, csrf, "read")
    token_id = db.exec(select(ApiToken.id)).one()
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(client)})
    assert anonymous.get("/api/me", headers=bearer(secret)).status_code == 401
    assert anonymous.get("/api/me", headers=bearer("sw_made-up")).status_code == 401


def test_token_never_signs_in_html_pages_or_forms(client, anonymous, people, login,
                                                  csrf) -> None:
    login(client, people.employee)
    secret = make_token(client, csrf, "write")
    page = anonymous.get("/tasks", headers=bearer(secret), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    form = anonymous.post("/account/tokens", data={"name": "x", "scope": "write"},
                          headers=bearer(secret), follow_redirects=False)
    assert form.status_code in (303, 403)


def test_someone_elses_token_cannot_be_revoked(db, client, anonymous, people, login,
                                               csrf) -> None:
    login(client, people.employee)
    make_token(client, csrf, "read")
    token_id = db.exec(select(ApiToken.id)).one()
    login(anonymous, people.colleague)
    answer = anonymous.post(f"/account/tokens/{token_id}/revoke",
                            data={"csrf_token": csrf(anonymous)})
    assert answer.status_code == 404
    assert db.exec(select(ApiToken)).one().revoked_at is None


def test_trusted_header_only_from_trusted_proxies(app, anonymous, people) -> None:
    app.state.settings.trusted_header = "X-Remote-User"
    headers = {"X-Remote-User": people.employee.employee_no}
    app.state.settings.trusted_proxies = ["10.0.0.1"]
    assert anonymous.get("/api/me", headers=headers).status_code == 401
    app.state.settings.trusted_proxies = ["testclient"]  # the test client's peer address
    me = anonymous.get("/api/me", headers=headers)
    assert me.status_code == 200 and me.json()["employee_no"] == people.employee.employee_no
    write = anonymous.put("/api/preferences", json={"daily_digest": True}, headers=headers)
    assert write.status_code == 403  # a gateway-signed browser still needs the CSRF token
