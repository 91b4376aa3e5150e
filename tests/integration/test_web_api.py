"""The JSON API: readable 4xx answers, never a 500, and the same rules as the pages."""

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


@pytest.fixture
def case(db):
    """A bank and a submitted case waiting on the employee's supervisor."""
    b = bank(db)
    instance = runtime.start(db, workflow="case_review", subject=b.employee, title="API case")
    runtime.fire(db, instance, "submit", b.employee)
    db.commit()
    return b, instance


def _post(client, csrf, instance_id, trigger, body, version=2):
    """An action on the case as read at `version` (its ETag goes as If-Match)."""
    return client.post(f"/api/instances/{instance_id}/actions/{trigger}", json=body,
                       headers={"X-CSRF-Token": csrf(client), "If-Match": f'"{version}"'})


def login_in_english(client, login, person) -> None:
    """Sign in, then pick English with the language switch (it wins over the person's own)."""
    login(client, person)
    client.get("/api/me?lang=en")


def test_api_fires_an_action_and_returns_the_new_state(client, csrf, login, case):
    b, instance = case
    login_in_english(client, login, b.manager_a)
    response = _post(client, csrf, instance.id, "review",
                     {"payload": {"outcome": "met", "score": 80}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from_state"], body["to_state"], body["completed"]) == (
        "submitted", "hr_review", True)
    assert body["instance"]["version"] == 3 and response.headers["ETag"] == '"3"'
    events = client.get(f"/api/instances/{instance.id}/events").json()
    assert [e["trigger"] for e in events] == ["start", "submit", "review"]
    assert events[-1]["to_label"] == "With HR"


def test_api_instance_lists_my_actions_with_their_fields(client, login, case):
    b, instance = case
    login_in_english(client, login, b.manager_a)
    answer = client.get(f"/api/instances/{instance.id}")
    body = answer.json()
    assert body["state"] == "submitted" and body["version"] == 2
    assert answer.headers["ETag"] == '"2"'
    actions = {a["trigger"]: a for a in body["actions"]}
    assert set(actions) == {"review", "send_back"}
    outcome = next(f for f in actions["review"]["fields"] if f["name"] == "outcome")
    assert outcome["required"] is True
    assert outcome["type"] == "choice" and outcome["choices"] == [
        {"value": "met", "label": "Requirement met"},
        {"value": "not_met", "label": "Requirement not met"}]
    assert actions["review"]["url"] == f"/api/instances/{instance.id}/actions/review"
    assert body["tasks"][0]["who"] == b.manager_a.name


def test_api_unknown_trigger_is_404_with_detail(client, csrf, login, case):
    b, instance = case
    login_in_english(client, login, b.manager_a)
    response = _post(client, csrf, instance.id, "teleport", {"payload": {}})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unknown_action"
    assert response.json()["detail"] == "There is no action 'teleport' in this workflow."


def test_api_wrong_actor_is_403(client, csrf, login, case):
    b, instance = case
    login_in_english(client, login, b.employee)
    response = _post(client, csrf, instance.id, "review", {"payload": {"outcome": "met"}})
    assert response.status_code == 403
    assert response.json()["detail"] == "You may not take this action on this case."


def test_api_stale_if_match_is_412_and_a_missing_one_is_428(client, csrf, login, case):
    b, instance = case
    login_in_english(client, login, b.manager_a)
    response = _post(client, csrf, instance.id, "review", {"payload": {"outcome": "met"}},
                     version=1)
    assert response.status_code == 412
    assert response.json()["code"] == "stale"
    assert "Someone else acted on this case first" in response.json()["detail"]
    missing = client.post(f"/api/instances/{instance.id}/actions/review",
                          json={"payload": {"outcome": "met"}},
                          headers={"X-CSRF-Token": csrf(client)})
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    assert client.get(f"/api/instances/{instance.id}").json()["state"] == "submitted"


def test_api_form_errors_are_422_per_field(client, csrf, login, case):
    b, instance = case
    login_in_english(client, login, b.manager_a)
    response = _post(client, csrf, instance.id, "review", {"payload": {"score": "lots"}})
    assert response.status_code == 422
    assert response.json()["errors"] == {"outcome": "This field is required.",
                                         "score": "Enter a number."}


@pytest.mark.parametrize("body", [
    b"{not json",
    b'{"payload": []}',
    b'{"payload": {}, "on_behalf_of_id": "soon"}',
    b'{"payload": {}, "surprise": 1}',
])
def test_api_malformed_body_is_422_with_readable_detail(client, csrf, login, case, body):
    b, instance = case
    login_in_english(client, login, b.manager_a)
    response = client.post(
        f"/api/instances/{instance.id}/actions/review", content=body,
        headers={"X-CSRF-Token": csrf(client), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The request is not valid:")


def test_api_answers_in_the_requests_language_then_the_persons(client, csrf, login, case):
    b, instance = case
    login(client, b.manager_a)  # a zh_CN person
    url = f"/api/instances/{instance.id}/actions/review"
    headers = {"X-CSRF-Token": csrf(client), "If-Match": '"2"'}
    asked = client.post(url, json={"payload": {}}, headers={**headers, "Accept-Language": "en"})
    assert asked.json()["errors"]["outcome"] == "This field is required."
    assert asked.json()["title"] == "Some fields are not valid"
    unasked = client.post(url, json={"payload": {}}, headers=headers)
    assert unasked.json()["errors"]["outcome"] == "此项为必填项。"


def test_api_me_and_workflows(client, login, case):
    b, _instance = case
    login_in_english(client, login, b.hr_a)
    me = client.get("/api/me").json()
    assert me["employee_no"] == b.hr_a.employee_no
    assert [(s["kind"], s["name"]) for s in me["seats"]] == [("role", "hr")]
    workflows = client.get("/api/workflows").json()
    assert [w["name"] for w in workflows] == ["case_review"]
    assert workflows[0]["states"][0] == {"name": "draft", "label": "Draft", "terminal": False,
                                         "initial": True, "description": ""}


def test_openapi_docs_describe_the_api(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/instances/{instance_id}/actions/{trigger}" in paths
    assert "/login" not in paths
