"""The plan's own rules around the review, over the JSON API: who said what, which checkpoints
were really missed, who opened the next cycle, and refusals that say what is true."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from app.engine import audit
from app.engine.models import WorkflowInstance
from app.plans.models import Review
from tests.plan_helpers import REVIEW, running_plan
from tests.plan_journey import Api, draft_and_propose, open_task_owners, people, sign_in
from tests.reminder_helpers import at

__all__ = ["people", "sign_in"]  # fixtures of the journey, used by name below


def running(db: Session, people) -> dict:
    """A signed plan being carried out (checkpoints on 15 Dec, 31 Dec and 31 Jan), as the
    employee reads it over the API."""
    plan = running_plan(db, people.employee, people.manager_a)
    return {"id": plan.id, "instance_id": plan.instance_id}


def record(me: Api, plan: dict, point: dict, expect: int = 200) -> dict:
    return me("PUT", f"/api/plans/{plan['id']}/checkpoints/{point['id']}/progress",
              json={"progress": "已完成本期任务"}, expect=expect)


def statuses(me: Api, plan: dict) -> list[str]:
    return [p["status"] for p in me("GET", f"/api/plans/{plan['id']}")["checkpoints"]]


def review_row(db: Session, plan: dict) -> Review:
    db.expire_all()
    return db.exec(select(Review).where(Review.plan_id == plan["id"])).one()


def test_returning_the_review_reopens_every_checkpoint_still_waiting(
        db, people, sign_in) -> None:
    at(date(2026, 12, 20))
    plan = running(db, people)
    me, boss = sign_in(people.employee), sign_in(people.manager_a)
    first, second, last = me("GET", f"/api/plans/{plan['id']}")["checkpoints"]
    record(me, plan, first)  # recorded, not yet checked; the other two are not due yet
    me("PUT", f"/api/plans/{plan['id']}/review", json=REVIEW)
    me("POST", f"/api/plans/{plan['id']}/actions/submit_review", json={"payload": {}})
    assert statuses(me, plan) == ["recorded", "open", "open"]  # nothing was missed

    boss("POST", f"/api/plans/{plan['id']}/actions/send_back",
         json={"payload": {"reason": "请先完成剩余检查点"}})
    iid = plan["instance_id"]
    assert open_task_owners(db, iid) == {
        ("act", people.employee.id, None), ("checkpoint_check", people.manager_a.id, None),
        ("checkpoint_record", people.employee.id, None)}
    record(me, plan, second)
    checked = boss("PUT", f"/api/plans/{plan['id']}/checkpoints/{first['id']}/check",
                   json={"result": "on_track"})
    assert checked["status"] == "checked"
    again = boss("PUT", f"/api/plans/{plan['id']}/checkpoints/{first['id']}/check",
                 json={"result": "on_track"}, expect=409)
    assert "already been checked" in again["detail"] or "已经检查过" in again["detail"]
    assert statuses(me, plan) == ["checked", "recorded", "open"]


def test_the_review_outcome_marks_missed_only_what_fell_due_unrecorded(
        db, people, sign_in) -> None:
    at(date(2027, 1, 5))
    plan = running(db, people)
    me, boss = sign_in(people.employee), sign_in(people.manager_a)
    first, second, last = me("GET", f"/api/plans/{plan['id']}")["checkpoints"]
    record(me, plan, first)
    me("PUT", f"/api/plans/{plan['id']}/review", json=REVIEW)
    me("POST", f"/api/plans/{plan['id']}/actions/submit_review", json={"payload": {}})
    boss("POST", f"/api/plans/{plan['id']}/actions/review",
         json={"payload": {"outcome": "met"}})
    # 15 Dec was recorded, 31 Dec fell due unrecorded, 31 Jan was never reached
    assert statuses(me, plan) == ["recorded", "missed", "cancelled"]
    refused = record(me, plan, second, expect=409)
    assert refused["detail"] == "检查点只能在计划实施期间记录。"


def test_the_review_keeps_the_supervisors_own_words_and_the_next_cycle_names_who_opened_it(
        db, people, sign_in) -> None:
    at(date(2027, 1, 5))
    plan = running(db, people)
    me, boss = sign_in(people.employee), sign_in(people.manager_a)
    me("PUT", f"/api/plans/{plan['id']}/review", json=REVIEW)
    me("POST", f"/api/plans/{plan['id']}/actions/submit_review",
       json={"payload": {"comment": "A"}})
    boss("POST", f"/api/plans/{plan['id']}/actions/send_back", json={"payload": {"reason": "B"}})
    row = review_row(db, plan)
    assert (row.supervisor_decision, row.supervisor_comment) == ("return", "B")

    me("POST", f"/api/plans/{plan['id']}/actions/submit_review",
       json={"payload": {"comment": "A2"}})
    done = boss("POST", f"/api/plans/{plan['id']}/actions/review",
                json={"payload": {"outcome": "no_progress"}})
    assert done["state"] == "next_cycle"
    row = review_row(db, plan)
    assert (row.supervisor_decision, row.supervisor_comment) == ("accept", "")

    [listed] = [p for p in me("GET", "/api/plans?state=draft")["items"] if p["cycle"] == 2]
    nxt = me("GET", f"/api/plans/{listed['id']}")
    instance = db.get(WorkflowInstance, nxt["instance_id"])
    assert instance.initiator_id == people.manager_a.id
    [start] = audit.trail(db, instance.id)
    assert (start.trigger, start.actor_id) == ("start", people.manager_a.id)


def test_signing_for_someone_who_gave_no_delegation_is_refused_as_such(
        db, people, sign_in) -> None:
    at(date(2026, 11, 20))
    me, boss = sign_in(people.employee), sign_in(people.manager_a)
    plan = me("POST", "/api/plans", expect=201, json={"title": "报表迟报", "gaps": [{
        "requirement": "每月6日前报送", "actual": "8日报送"}]})
    plan = draft_and_propose(db, me, boss, plan)
    refused = boss("POST", f"/api/plans/{plan['id']}/actions/sign",
                   json={"payload": {}, "on_behalf_of_id": people.employee.id}, expect=403)
    assert "委托" in refused["detail"] or "delegation" in refused["detail"]
    me("POST", f"/api/plans/{plan['id']}/actions/sign", json={"payload": {}})
    twice = me("POST", f"/api/plans/{plan['id']}/actions/sign", json={"payload": {}},
               expect=409)
    assert "签过字" in twice["detail"] or "already signed" in twice["detail"]
