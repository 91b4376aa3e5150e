"""CSRF: every state-changing request needs this session's token, forms and API alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import runtime
from tests.factories import bank

WEB_WORKFLOWS = Path(__file__).resolve().parent.parent / "data" / "web_workflows"


@pytest.fixture
def workflows_dir() -> Path:
    """These tests run on the small web-test workflow."""
    return WEB_WORKFLOWS


def _case(db, b):
    instance = runtime.start(db, workflow="case_review", subject=b.employee, title="CSRF case")
    db.commit()
    return instance


def test_form_post_without_token_is_refused_with_a_clear_page(db, client, login):
    b = bank(db)
    login(client, b.employee)
    client.get("/api/me?lang=en")
    instance = _case(db, b)

    response = client.post(f"/instances/{instance.id}/actions/submit",
                           data={"expected_version": "1"})

    assert response.status_code == 403
    assert "This form has expired or did not come from this site." in response.text
    assert "Traceback" not in response.text
    db.expire_all()
    assert db.get(type(instance), instance.id).state == "draft"


def test_form_post_with_a_foreign_token_is_refused(db, client, login):
    b = bank(db)
    login(client, b.employee)
    instance = _case(db, b)
    response = client.post(f"/instances/{instance.id}/actions/submit",
                           data={"csrf_token": "x" * 43, "expected_version": "1"})
    assert response.status_code == 403


def test_sign_in_form_needs_the_token_too(db, client, demo_password_hash):
    b = bank(db)
    b.employee.password_hash = demo_password_hash
    db.commit()
    response = client.post("/login", data={"username": b.employee.employee_no, "password": "demo"})
    assert response.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_api_write_on_session_cookie_needs_the_header(db, client, csrf, login):
    b = bank(db)
    login(client, b.employee)
    client.get("/api/me?lang=en")
    instance = _case(db, b)
    url = f"/api/instances/{instance.id}/actions/submit"

    refused = client.post(url, json={"payload": {}})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert "did not come from this site" in refused.json()["detail"]

    accepted = client.post(url, json={"payload": {}}, headers={
        "X-CSRF-Token": csrf(client), "If-Match": f'"{instance.version}"'})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["to_state"] == "submitted"


def test_token_changes_when_someone_signs_in(db, client, csrf, login):
    b = bank(db)
    before = csrf(client)
    login(client, b.employee)
    assert csrf(client) != before
