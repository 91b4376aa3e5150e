"""Out of office: a person names a delegate on the page or through the API, and revokes it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from app.org.models import Delegation
from tests.factories import bank
from tests.reminder_helpers import CHECKPOINT_WORKFLOWS, at

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def workflows_dir() -> Path:
    return CHECKPOINT_WORKFLOWS


def test_out_of_office_is_set_on_the_page_checked_listed_and_revoked(db, client, login) -> None:
    org = bank(db)
    db.commit()
    at(date(2026, 3, 2))
    login(client, org.manager_a)
    page = client.get("/delegations?lang=en")
    csrf = CSRF.search(page.text).group(1)

    wrong = client.post("/delegations", data={
        "csrf_token": csrf, "delegate": org.manager_a.employee_no, "starts_on": "2026-03-10",
        "ends_on": "2026-03-09"})
    assert wrong.status_code == 422
    assert "Choose an active colleague other than yourself." in wrong.text
    assert "The last day cannot be before the first day." in wrong.text
    assert db.exec(select(Delegation)).all() == []

    saved = client.post("/delegations", data={
        "csrf_token": csrf, "delegate": org.colleague.employee_no, "starts_on": "2026-03-09",
        "ends_on": "2026-03-13", "workflow": "checkpoint_check", "reason": "培训"})
    assert saved.status_code == 200 and "李四" in saved.text

    answer = client.get("/api/delegations")
    listed = answer.json()
    assert [(d["delegate_id"], d["workflow"]) for d in listed["mine"]] == [
        (org.colleague.id, "checkpoint_check")]
    clash = client.post("/api/delegations", headers={
        "X-CSRF-Token": csrf, "If-Match": answer.headers["ETag"]}, json={
        "delegate_employee_no": org.colleague.employee_no, "starts_on": "2026-03-12",
        "ends_on": "2026-03-20"})
    assert clash.status_code == 422 and "starts_on" in clash.json()["errors"]

    revoked = client.post(f"/api/delegations/{listed['mine'][0]['id']}/revoke",
                          headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/delegations").json()["mine"] == []
