"""The full improvement-plan journey over the JSON API, cycle limit configured to two."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.engine import audit
from app.engine.models import Task, TaskStatus
from tests.factories import bank

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workflows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped workflows with the cycle limit set to 2: configuration, not code."""
    target = tmp_path_factory.mktemp("wf") / "workflows"
    shutil.copytree(PROJECT / "workflows", target)
    path = target / "improvement_plan.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("cycle_limit: 3", "cycle_limit: 2"), encoding="utf-8")
    return target


class Api:
    """A signed-in API caller."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def __call__(self, method: str, url: str, expect: int = 200, **kwargs):
        response = self.client.request(method, url, headers={"X-CSRF-Token": self.token},
                                       **kwargs)
        assert response.status_code == expect, response.text
        return response.json()


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


@pytest.fixture
def sign_in(app, login, csrf):
    """sign_in(person) -> an Api for that person; every client is closed afterwards."""
    with ExitStack() as stack:

        def _sign_in(person) -> Api:
            client = stack.enter_context(TestClient(app, base_url="http://testserver"))
            login(client, person)
            return Api(client, csrf(client))

        yield _sign_in


def open_task_owners(db: Session, instance_id: int) -> set[tuple[str, int | None, str | None]]:
    db.expire_all()
    return {(t.kind, t.assignee_id, t.group_name) for t in db.exec(
        select(Task).where(Task.instance_id == instance_id, Task.status == TaskStatus.open))}


def triggers(db: Session, instance_id: int) -> list[str]:
    return [e.trigger for e in audit.trail(db, instance_id)]


def draft_and_propose(db: Session, me: Api, boss: Api, plan: dict) -> dict:
    pid = plan["id"]
    gap_id = plan["gaps"][0]["id"]
    plan = me("POST", f"/api/plans/{pid}/actions/record_gap", json={"payload": {}})
    assert plan["state"] == "gap_identified"
    me("POST", f"/api/plans/{pid}/gaps/{gap_id}/decision", json={"included": True})
    boss("POST", f"/api/plans/{pid}/gaps/{gap_id}/causes",
         json={"side": "supervisor", "nature": "subjective",
               "catalogue_key": "supervision_not_timely"}, expect=201)
    plan = me("POST", f"/api/plans/{pid}/actions/analyse_causes", json={"payload": {}})
    plan = me("POST", f"/api/plans/{pid}/methods",
              json={"description": "每日晨会演练服务话术", "origin": "brainstorming",
                    "chosen": True}, expect=201)
    plan = me("POST", f"/api/plans/{pid}/actions/choose_methods", json={"payload": {}})
    me("PUT", f"/api/plans/{pid}/details", json={
        "goal": "客户服务评价满意率达到95%", "goal_metric": "满意率", "goal_unit": "%",
        "goal_target": 95, "resources": "主管每周听课一次", "period_start": "2026-12-01",
        "period_end": "2027-01-31", "cadence": "monthly"})
    me("POST", f"/api/plans/{pid}/steps", json={
        "description": "参加服务礼仪培训", "due_on": "2026-12-15",
        "expected_result": "培训合格证"}, expect=201)
    me("POST", f"/api/plans/{pid}/actions/draft_plan", json={"payload": {}})
    plan = me("POST", f"/api/plans/{pid}/actions/propose", json={"payload": {"comment": "请审阅"}})
    assert plan["state"] == "plan_proposed" and plan["problems"] == {}
    return plan


def run_and_review(db: Session, me: Api, boss: Api, plan: dict, outcome: str) -> dict:
    pid = plan["id"]
    me("POST", f"/api/plans/{pid}/actions/sign", json={"payload": {}})
    plan = boss("POST", f"/api/plans/{pid}/actions/sign", json={"payload": {}})
    assert plan["state"] == "plan_agreed"
    assert {s["content_hash"] for s in plan["signatures"] if not s["voided"]} == {
        me("GET", f"/api/plans/{pid}/versions")[-1]["content_hash"]}
    plan = me("POST", f"/api/plans/{pid}/actions/begin", json={"payload": {}})
    assert plan["state"] == "in_progress"
    for point in plan["checkpoints"]:
        me("POST", f"/api/plans/{pid}/checkpoints/{point['id']}/progress",
           data={"progress": "已完成本期任务", "evidence_text": "客户评价表"},
           files=[("files", ("evaluation.pdf", b"%PDF-1.4 evaluation", "application/pdf"))])
        checked = boss("POST", f"/api/plans/{pid}/checkpoints/{point['id']}/check",
                       json={"result": "at_risk", "comment": "满意率仍低于目标"})
        assert checked["status"] == "checked"
    plan = me("POST", f"/api/plans/{pid}/actions/submit_review", json={"payload": {}})
    assert plan["state"] == "under_review"
    me("PUT", f"/api/plans/{pid}/review", json={
        "period_label": "2027年1月", "cut_off_on": "2027-01-31", "post": "柜员",
        "indicators": [{"indicator": "服务满意率", "unit": "%", "balance_kind": "point",
                        "actual": 90, "plan_value": 95, "time_proportional_target": 95}],
        "problems": [{"problem": "高峰期等候时间长", "cause": "窗口不足",
                      "indicator": "服务满意率"}],
        "targets": [{"indicator": "服务满意率", "value": 95, "unit": "%",
                     "deadline": "2027-03-31"}]})
    return boss("POST", f"/api/plans/{pid}/actions/review",
                json={"payload": {"outcome": outcome, "comment": "有进步但未达标"}})


def test_full_plan_journey_two_cycles_then_hr_decides(db, people, sign_in) -> None:
    me = sign_in(people.employee)
    boss = sign_in(people.manager_a)
    hr = sign_in(people.hr_a)
    outsider = sign_in(people.hr_b)

    plan = me("POST", "/api/plans", expect=201, json={
        "title": "服务态度生硬", "gaps": [{
            "requirement": "客户评价满意率不低于95%", "actual": "近三个月多次被客户评价服务态度差",
            "metric": "满意率", "unit": "%", "baseline": 82, "target": 95,
            "source": "customer_evaluation"}]})
    pid, iid = plan["id"], plan["instance_id"]
    assert plan["state"] == "draft" and plan["cycle"] == 1
    assert open_task_owners(db, iid) == {("act", people.employee.id, None),
                                         ("act", people.manager_a.id, None)}
    outsider("GET", f"/api/plans/{pid}", expect=404)

    plan = draft_and_propose(db, me, boss, plan)
    assert open_task_owners(db, iid) == {("sign_off", people.employee.id, None),
                                         ("sign_off", people.manager_a.id, None)}
    sent_back = boss("POST", f"/api/plans/{pid}/actions/send_back",
                     json={"payload": {"reason": ""}}, expect=422)
    assert "reason" in sent_back["errors"]
    plan = boss("POST", f"/api/plans/{pid}/actions/send_back",
                json={"payload": {"reason": "步骤太少，请补充每周演练"}})
    assert plan["state"] == "plan_drafted"
    me("POST", f"/api/plans/{pid}/steps", json={
        "description": "每周演练一次服务话术", "due_on": "2027-01-10",
        "expected_result": "演练记录四次"}, expect=201)
    plan = me("POST", f"/api/plans/{pid}/actions/propose", json={"payload": {}})
    assert [v["number"] for v in me("GET", f"/api/plans/{pid}/versions")] == [1, 2]
    diff = me("GET", f"/api/plans/{pid}/versions/1/diff/2")
    assert any(line.startswith("+") and "每周演练" in line for line in diff["lines"])

    plan = run_and_review(db, me, boss, plan, outcome="below_target")
    assert plan["state"] == "next_cycle"
    assert "send_back" in triggers(db, iid) and "checkpoint_checked" in triggers(db, iid)

    page = me("GET", "/api/plans?state=draft")
    assert page["total"] == 1 and page["items"][0]["cycle"] == 2
    second = me("GET", f"/api/plans/{page['items'][0]['id']}")
    assert second["previous_plan_id"] == pid and second["cycle_warning"] is True
    second = draft_and_propose(db, me, boss, second)
    second = run_and_review(db, me, boss, second, outcome="no_progress")
    assert second["state"] == "hr_decision"
    assert open_task_owners(db, second["instance_id"]) == {("act", None, "hr")}

    hr("POST", f"/api/plans/{second['id']}/actions/decide",
       json={"payload": {"hr_decision": "sideways", "reason": "x"}}, expect=422)
    me("POST", f"/api/plans/{second['id']}/actions/decide",
       json={"payload": {"hr_decision": "rotation", "reason": "x"}}, expect=403)
    done = hr("POST", f"/api/plans/{second['id']}/actions/decide", json={"payload": {
        "hr_decision": "rotation", "decision_applies_to": "employee",
        "reason": "两个周期仍未达到要求，安排轮岗"}})
    assert done["state"] == "closed_by_hr"
    assert open_task_owners(db, second["instance_id"]) == set()
    trail = audit.trail(db, second["instance_id"])
    assert trail[-1].trigger == "decide" and trail[-1].actor_id == people.hr_a.id
    assert trail[-1].payload["hr_decision"] == "rotation"


def test_stale_view_of_a_plan_gets_a_conflict(db, people, sign_in) -> None:
    me = sign_in(people.employee)
    boss = sign_in(people.manager_a)
    plan = me("POST", "/api/plans", expect=201, json={"title": "报表迟报", "gaps": [
        {"requirement": "每月6日前报送", "actual": "8日报送"}]})
    seen = plan["version"]
    boss("POST", f"/api/plans/{plan['id']}/gaps", json={
        "requirement": "差错为零", "actual": "本月两笔差错"}, expect=201)
    stale = me("POST", f"/api/plans/{plan['id']}/actions/record_gap",
               json={"payload": {}, "expected_version": seen}, expect=409)
    assert stale["code"] == "stale" and stale["detail"]
    stale_edit = me("POST", f"/api/plans/{plan['id']}/gaps?expected_version={seen}", json={
        "requirement": "x", "actual": "y"}, expect=409)
    assert stale_edit["code"] == "stale"


def test_bad_plan_input_gets_readable_422(db, people, sign_in) -> None:
    me = sign_in(people.employee)
    bad = me("POST", "/api/plans", expect=422, json={"title": "", "gaps": []})
    assert bad["detail"]
    plan = me("POST", "/api/plans", expect=201, json={"title": "x", "gaps": [
        {"requirement": "a", "actual": "b"}]})
    wrong = me("POST", f"/api/plans/{plan['id']}/steps", expect=422, json={
        "description": "无日期步骤"})
    assert "due_on" in wrong["errors"]
    colleague = sign_in(people.colleague)
    colleague("POST", "/api/plans", expect=403, json={
        "title": "代开计划", "employee_id": people.employee.id})
