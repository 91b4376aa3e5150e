"""The improvement-plan journey over the JSON API as tests drive it: signed-in callers that send
the plan's ETag with every write (If-Match), a bank, and the steps to a proposed plan."""

from __future__ import annotations

import re
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.engine import audit
from app.engine.models import Task, TaskStatus
from tests.factories import bank

PLAN_URL = re.compile(r"^(/api/plans/\d+)")


class Api:
    """A signed-in API caller; a write to a plan carries the plan's current ETag (a test that
    is about concurrency passes its own If-Match)."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def __call__(self, method: str, url: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.token, **kwargs.pop("headers", {})}
        plan = PLAN_URL.match(url)
        if method != "GET" and plan and "If-Match" not in headers:
            headers["If-Match"] = self.client.get(plan.group(1)).headers.get("ETag", "")
        response = self.client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == expect, response.text
        body = response.json() if response.content else None
        if "/actions/" in url and isinstance(body, dict) and "plan" in body:
            return body["plan"]  # an action answers with what it did and the plan it moved
        return body


@pytest.fixture
def people(db: Session, app):  # noqa: ANN001, ANN201
    """The test bank, committed for the app's own sessions."""
    org = bank(db)
    db.commit()
    return org


@pytest.fixture
def sign_in(app, login, csrf):  # noqa: ANN001, ANN201
    """sign_in(person) -> an Api for that person; every client is closed afterwards."""
    with ExitStack() as stack:

        def _sign_in(person) -> Api:  # noqa: ANN001
            client = stack.enter_context(TestClient(app, base_url="http://testserver"))
            login(client, person)
            return Api(client, csrf(client))

        yield _sign_in


def open_task_owners(db: Session, instance_id: int) -> set[tuple[str, int | None, str | None]]:
    """(kind, person, group) of every open task of a case."""
    db.expire_all()
    return {(t.kind, t.assignee_id, t.group_name) for t in db.exec(
        select(Task).where(Task.instance_id == instance_id, Task.status == TaskStatus.open))}


def triggers(db: Session, instance_id: int) -> list[str]:
    """The case's audit trail, trigger by trigger."""
    return [e.trigger for e in audit.trail(db, instance_id)]


def draft_and_propose(db: Session, me: Api, boss: Api, plan: dict) -> dict:
    """From a new plan with one gap to a plan proposed for both signatures."""
    pid = plan["id"]
    gap_id = plan["gaps"][0]["id"]
    plan = me("POST", f"/api/plans/{pid}/actions/record_gap", json={"payload": {}})
    assert plan["state"] == "gap_identified"
    me("PUT", f"/api/plans/{pid}/gaps/{gap_id}/decision", json={"included": True})
    boss("POST", f"/api/plans/{pid}/gaps/{gap_id}/causes",
         json={"side": "supervisor", "nature": "subjective",
               "catalogue_key": "supervision_not_timely"}, expect=201)
    me("POST", f"/api/plans/{pid}/actions/analyse_causes", json={"payload": {}})
    me("POST", f"/api/plans/{pid}/methods",
       json={"description": "每日晨会演练服务话术", "origin": "brainstorming", "chosen": True},
       expect=201)
    me("POST", f"/api/plans/{pid}/actions/choose_methods", json={"payload": {}})
    me("PUT", f"/api/plans/{pid}/details", json={
        "goal": "客户服务评价满意率达到95%", "goal_metric": "满意率", "goal_unit": "%",
        "goal_target": 95, "resources": "主管每周听课一次", "period_start": "2026-12-01",
        "period_end": "2027-01-31", "cadence": "monthly"})
    me("POST", f"/api/plans/{pid}/steps", json={
        "description": "参加服务礼仪培训", "due_on": "2026-12-15",
        "expected_result": "培训合格证"}, expect=201)
    me("POST", f"/api/plans/{pid}/actions/draft_plan", json={"payload": {}})
    plan = me("POST", f"/api/plans/{pid}/actions/propose", json={"payload": {"comment": "请审阅"}})
    assert plan["state"] == "plan_proposed"
    return plan
