"""The API's one contract at the edges: problem details, ETag/If-Match, 201 + Location, the
request's language, tokens without pages, need-to-know lookups, links, outcomes, exports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import ApiToken
from app.plans import service
from app.plans.schemas import PlanDetails
from tests.factories import bank
from tests.integration.test_plan_service import agreed_and_running, fill_to_proposal, new_plan

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "instance", "errors"}


class Api:
    """A caller with a bearer token (made over the API), answering in English."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __call__(self, method: str, url: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, url, **kwargs)
        assert response.status_code == expect, response.text
        return response


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The body of a problem answer, checked for its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status and body["code"] == code
    assert body["type"] == f"/problems/{code}" and body["instance"] == response.url.path
    return body


@pytest.fixture
def org(db: Session, app, demo_password_hash):
    org = bank(db)
    for person in (org.employee, org.manager_a, org.hr_a, org.colleague, org.employee_b):
        person.password_hash = demo_password_hash
    db.commit()
    with TestClient(app):  # start-up stores the workflow definitions
        pass
    return org


@pytest.fixture
def token_for(app) -> Iterator[Any]:
    """token_for(person, scope="write") -> (bearer client, secret), minted over the API."""
    with ExitStack() as stack:

        def _token(person: Any, scope: str = "write") -> tuple[Api, str]:
            browser = stack.enter_context(TestClient(app, base_url="http://testserver"))
            session = browser.post("/api/session", json={"username": person.employee_no,
                                                         "password": "demo"})
            assert session.status_code == 201, session.text
            made = browser.post("/api/tokens", json={"name": f"script {scope}", "scope": scope},
                                headers={"X-CSRF-Token": session.json()["csrf_token"]})
            assert made.status_code == 201, made.text
            secret = made.json()["secret"]
            caller = stack.enter_context(TestClient(app, base_url="http://testserver", headers={
                "Authorization": f"Bearer {secret}", "Accept-Language": "en"}))
            return Api(caller), secret

        yield _token


def test_tokens_are_made_listed_and_revoked_without_a_page(app, db, org, token_for) -> None:
    me, secret = token_for(org.employee)
    listed = me("GET", "/api/tokens").json()
    assert [t["name"] for t in listed] == ["script write"] and "secret" not in listed[0]
    assert secret.startswith(listed[0]["prefix"])
    assert db.exec(select(ApiToken)).one().token_hash != secret
    second = me("POST", "/api/tokens", expect=201, json={"name": "nightly", "scope": "read"})
    assert second.headers["Location"] == second.json()["url"]
    reader = TestClient(app, headers={"Authorization": f"Bearer {second.json()['secret']}"})
    problem(reader.post("/api/tokens", json={"name": "x", "scope": "write"}), 403,
            "read_only_token")
    revoked = me("POST", f"{second.json()['url']}/revoke").json()
    assert revoked["revoked_at"]
    problem(reader.get("/api/me"), 401, "not_authenticated")
    other, _ = token_for(org.colleague)
    problem(other.client.get(second.json()["url"]), 404, "not_found")
    wrong = TestClient(app).post("/api/session", json={"username": org.employee.employee_no,
                                                       "password": "nope"})
    assert problem(wrong, 401, "not_authenticated")["detail"]
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_people_and_units_are_looked_up_within_need_to_know(org, token_for) -> None:
    me, _ = token_for(org.employee)
    numbers = {p["employee_no"] for p in me("GET", "/api/people").json()["items"]}
    assert {org.employee.employee_no, org.colleague.employee_no, org.manager_a.employee_no,
            org.president_a.employee_no} <= numbers
    assert org.employee_b.employee_no not in numbers and org.hr_b.employee_no not in numbers
    found = me("GET", "/api/people", params={"employee_no": org.manager_a.employee_no}).json()
    assert [p["id"] for p in found["items"]] == [org.manager_a.id]
    assert me("GET", "/api/people", params={"employee_no": org.employee_b.employee_no}
              ).json()["total"] == 0
    problem(me.client.get(f"/api/people/{org.employee_b.id}"), 404, "not_found")
    units = {u["id"] for u in me("GET", "/api/units").json()}
    assert {org.sub_a.id, org.branch_a.id, org.head_office.id} <= units
    assert org.branch_b.id not in units
    hr, _ = token_for(org.hr_a)
    staff = hr("GET", "/api/people", params={"unit": org.sub_a.id}).json()
    assert {org.employee.id, org.colleague.id, org.manager_a.id} <= {
        p["id"] for p in staff["items"]}
    assert hr("GET", f"/api/people/{org.employee.id}").json()["links"]["plans"] == (
        f"/api/plans?employee_id={org.employee.id}")


def test_every_kind_of_error_is_a_problem_with_its_own_code(db, org, token_for) -> None:
    plan = new_plan(db, org)
    me, _ = token_for(org.employee)
    url = f"/api/plans/{plan.id}"
    etag = me("GET", url).headers["ETag"]
    assert etag == f'"{service.instance_of(db, plan).version}"'
    problem(TestClient(me.client.app).get(url), 401, "not_authenticated")
    problem(me.client.get("/api/plans/999999"), 404, "not_found")
    problem(me.client.post(f"{url}/actions/fly", json={}, headers={"If-Match": etag}), 404,
            "unknown_action")
    allowed = me.client.put(url)
    problem(allowed, 405, "method_not_allowed")
    assert allowed.headers["Allow"] == "GET"
    problem(me.client.post(f"{url}/actions/propose", json={}, headers={"If-Match": etag}), 409,
            "wrong_state")
    incomplete = me.client.post(f"{url}/actions/record_gap", json={}, headers={"If-Match": etag})
    assert incomplete.status_code == 200  # the plan has its gap
    etag = incomplete.headers["ETag"]
    body = problem(me.client.post(f"{url}/actions/analyse_causes", json={},
                                  headers={"If-Match": etag}), 409, "incomplete")
    assert body["detail"]
    problem(me.client.post(f"{url}/gaps", json={"requirement": "a", "actual": "b"}), 428,
            "precondition_required")
    problem(me.client.post(f"{url}/gaps", json={"requirement": "a", "actual": "b"},
                           headers={"If-Match": '"1"'}), 412, "stale")
    invalid = problem(me.client.post(f"{url}/gaps", json={"requirement": "a", "actual": "  "},
                                     headers={"If-Match": etag}), 422, "request_invalid")
    assert set(invalid["errors"]) == {"actual"}


def test_already_signed_is_already_done_and_payload_fields_are_checked(db, org,
                                                                       token_for) -> None:
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    me, _ = token_for(org.employee)
    url = f"/api/plans/{plan.id}"
    etag = me("GET", url).headers["ETag"]
    unknown = problem(me.client.post(f"{url}/actions/sign", json={"payload": {"colour": "red"}},
                                     headers={"If-Match": etag}), 422, "validation_failed")
    assert unknown["errors"] == {"colour": "This field is not expected here."}
    assert unknown["detail"] == (
        "Some fields are not valid: colour: This field is not expected here.")
    signed = me("POST", f"{url}/actions/sign", json={"payload": {"meaning": "agree"}},
                headers={"If-Match": etag})
    assert signed.json()["completed"] is False
    problem(me.client.post(f"{url}/actions/sign", json={},
                           headers={"If-Match": signed.headers["ETag"]}), 409, "already_done")


def test_creating_answers_201_with_the_item_and_where_it_lives(db, org, token_for) -> None:
    plan = new_plan(db, org)
    me, _ = token_for(org.employee)
    url = f"/api/plans/{plan.id}"
    etag = me("GET", url).headers["ETag"]
    made = me("POST", f"{url}/gaps", expect=201, headers={"If-Match": etag},
              json={"requirement": "差错为零", "actual": "本月两笔差错"})
    gap = made.json()
    assert made.headers["Location"] == gap["url"] == f"{url}/gaps/{gap['id']}"
    assert made.headers["ETag"] != etag and gap["causes"] == []
    assert me("GET", made.headers["Location"]).json() == gap
    cause = me("POST", f"{url}/gaps/{gap['id']}/causes", expect=201,
               headers={"If-Match": made.headers["ETag"]},
               json={"side": "employee", "nature": "subjective", "text": "不熟悉流程"})
    assert me("GET", cause.headers["Location"]).json()["text"] == "不熟悉流程"
    gone = me("DELETE", cause.headers["Location"], expect=204,
              headers={"If-Match": cause.headers["ETag"]})
    problem(me.client.get(cause.headers["Location"]), 404, "not_found")
    assert gone.headers["ETag"] == me("GET", url).headers["ETag"]


def test_messages_and_diff_lines_come_in_the_requests_language(db, org, token_for) -> None:
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="send_back",
                payload={"reason": "资源不够具体"})
    service.update_details(db, plan_id=plan.id, actor=org.employee,
                           details=details(resources="数据部门提前三天提供底稿"))
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="propose")
    db.commit()
    me, _ = token_for(org.employee)  # a zh_CN person: the request's language comes first
    url = f"/api/plans/{plan.id}"
    diff = f"{url}/versions/1/diff/2"
    lines_en = me("GET", diff).json()["lines"]
    lines_zh = me.client.get(diff, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()["lines"]
    assert "+Resources: 数据部门提前三天提供底稿" in lines_en
    assert len(lines_zh) == len(lines_en) and not any("Resources" in x for x in lines_zh)
    assert any(x.startswith("+") and "数据部门提前三天提供底稿" in x for x in lines_zh)
    headers = {"If-Match": me("GET", url).headers["ETag"]}
    en = me.client.post(f"{url}/gaps", json={"requirement": "x", "actual": ""}, headers=headers)
    zh = me.client.post(f"{url}/gaps", json={"requirement": "x", "actual": ""},
                        headers={**headers, "Accept-Language": "zh-CN"})
    assert problem(en, 422, "request_invalid")["errors"] == {"actual": "This field is required."}
    assert problem(zh, 422, "request_invalid")["errors"] == {"actual": "此项为必填项。"}
    assert en.json()["title"] == "The request is not valid" != zh.json()["title"]


def details(**changes: Any) -> PlanDetails:
    """The details the plan helper sets, with some changed."""
    return PlanDetails(**{
        "goal": "每月6日前报送", "goal_metric": "报送延迟天数", "goal_target": 0,
        "goal_unit": "天", "resources": "数据部门提前提供底稿",
        "period_start": date(2026, 12, 1), "period_end": date(2027, 2, 28),
        "cadence": "monthly", **changes})


def test_tasks_plans_and_cases_link_to_each_other(db, org, token_for) -> None:
    plan = new_plan(db, org)
    me, _ = token_for(org.employee)
    task = next(t for t in me("GET", "/api/tasks").json() if t["plan_id"] == plan.id)
    assert task["links"]["plan"] == f"/api/plans/{plan.id}"
    assert task["links"]["case"] == f"/api/instances/{plan.instance_id}"
    doc = me("GET", task["links"]["plan"]).json()
    case = me("GET", doc["links"]["case"]).json()
    assert case["plan_id"] == plan.id and case["links"]["plan"] == doc["links"]["self"]
    assert case["promotion_request_id"] is None
    assert me("GET", doc["links"]["employee"]).json()["id"] == org.employee.id


def test_hr_comments_on_a_submitted_review_and_everyone_reads_the_outcome(db, org,
                                                                          token_for) -> None:
    from tests.integration.test_plan_service import write_review

    plan = agreed_and_running(db, org)
    me, _ = token_for(org.employee)
    hr, _ = token_for(org.hr_a)
    url = f"/api/plans/{plan.id}"
    early = problem(hr.client.put(f"{url}/outcome/hr-comment", json={"comment": "好"},
                                  headers={"If-Match": hr("GET", url).headers["ETag"]}),
                    409, "wrong_state")
    assert early["detail"]
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="submit_review")
    write_review(db, org, plan, actual=100)
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="review",
                payload={"outcome": "met", "comment": "达标"})
    db.commit()
    problem(me.client.put(f"{url}/outcome/hr-comment", json={"comment": "自评"},
                          headers={"If-Match": me("GET", url).headers["ETag"]}), 403,
            "not_allowed")
    assert hr("GET", f"{url}/outcome").json()["may_comment"] is True
    commented = hr("PUT", f"{url}/outcome/hr-comment", json={"comment": "同意关闭"},
                   headers={"If-Match": hr("GET", url).headers["ETag"]}).json()
    assert commented["hr_comment"] == "同意关闭" and commented["hr_comment_by_id"] == org.hr_a.id
    outcome = me("GET", url).json()["outcome"]
    assert (outcome["review_outcome"], outcome["review_outcome_label"],
            outcome["supervisor_comment"], outcome["hr_comment"]) == (
        "met", "Requirement met", "达标", "同意关闭")
    assert me("GET", f"{url}/review").json()["hr_comment"] == "同意关闭"
    page = me.client.get(f"/plans/{plan.id}", follow_redirects=False)
    assert page.status_code == 303  # a bearer token never signs a page in


def test_exports_and_the_calendar_come_with_a_token(db, org, token_for) -> None:
    agreed_and_running(db, org)
    hr, _ = token_for(org.hr_a)
    csv = hr("GET", "/api/reports/plans/export", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf") and "报表迟报" in csv.text
    xlsx = hr("GET", "/api/reports/overdue/export", params={"format": "xlsx"})
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.max_row >= 1
    me, _ = token_for(org.employee)
    problem(me.client.get("/api/reports/plans/export"), 403, "not_allowed")
    ics = me("GET", "/api/reports/calendar.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in ics.content and b"BEGIN:VEVENT" in ics.content


def test_the_plan_page_shows_the_outcome_and_takes_hrs_comment(db, org, app, login,
                                                                 csrf) -> None:
    from tests.integration.test_plan_service import write_review

    plan = agreed_and_running(db, org)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="submit_review")
    write_review(db, org, plan, actual=100)
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="review",
                payload={"outcome": "met", "comment": "达标"})
    db.commit()
    with TestClient(app) as hr:
        login(hr, org.hr_a)
        page = hr.get(f"/plans/{plan.id}?lang=en")
        assert 'id="outcome"' in page.text and "Requirement met" in page.text
        version = service.instance_of(db, plan).version
        blank = hr.post(f"/plans/{plan.id}/outcome/hr-comment", data={
            "csrf_token": csrf(hr), "expected_version": str(version), "comment": "  "})
        assert blank.status_code == 422 and 'id="outcome-f-comment-error"' in blank.text
        saved = hr.post(f"/plans/{plan.id}/outcome/hr-comment", data={
            "csrf_token": csrf(hr), "expected_version": str(version), "comment": "同意关闭"})
        assert saved.status_code == 200 and '<dd id="hr-comment">同意关闭</dd>' in saved.text
    with TestClient(app) as me:
        login(me, org.employee)
        page = me.get(f"/plans/{plan.id}")
        assert "同意关闭" in page.text and 'id="hr-comment-form"' not in page.text
