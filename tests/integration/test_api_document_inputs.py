"""The OpenAPI document states what requests may carry as the app checks it: every text
without control characters (keys and path and query values included), exact id bounds, and no
field a body or form does not name."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.text import STORABLE_PATTERN
from app.web.ids import ID_MAX
from tests.factories import bank

CHECKED_PARAMETERS = ("path", "query")


def refs(node: Any) -> set[str]:
    """The component names a schema points at, directly."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(item) for item in node))
    return set()


def reachable(names: set[str], components: dict[str, Any]) -> set[str]:
    """The components those names lead to, following references."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending += refs(components[name])
    return seen


def request_schemas(document: dict[str, Any]) -> list[Any]:
    """Every schema a request is checked against: path and query parameters, bodies."""
    found: list[Any] = []
    for operations in document["paths"].values():
        for operation in operations.values():
            found += [p["schema"] for p in operation.get("parameters", [])
                      if p["in"] in CHECKED_PARAMETERS]
            found += [media["schema"] for media in
                      operation.get("requestBody", {}).get("content", {}).values()]
    components = document["components"]["schemas"]
    return found + [components[name] for name in reachable(refs(found), components)]


def nodes(node: Any) -> list[dict[str, Any]]:
    """A schema and every schema inside it."""
    if isinstance(node, dict):
        return [node] + [inner for value in node.values() for inner in nodes(value)]
    if isinstance(node, list):
        return [inner for item in node for inner in nodes(item)]
    return []


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def test_every_request_text_states_that_control_characters_are_refused(document) -> None:
    for schema in request_schemas(document):
        for node in nodes(schema):
            if node.get("type") == "string" and not {"enum", "const", "format"} & node.keys():
                pattern = re.compile(node["pattern"])
                assert not pattern.fullmatch("a\x00") and not pattern.fullmatch("a\x85"), node
            if node.get("type") == "object" and node.get("additionalProperties") is not False:
                assert node["propertyNames"]["pattern"] == STORABLE_PATTERN, node
                assert node.get("additionalProperties", True) is not True, node


def test_request_shapes_are_not_shared_with_responses(document) -> None:
    components = document["components"]["schemas"]
    answers = [op.get("responses", {}) for ops in document["paths"].values()
               for op in ops.values()]
    sent = reachable(refs(request_schemas(document)), components)
    assert sent and not sent & reachable(refs(answers), components)


def test_id_bounds_are_stated_exactly(document) -> None:
    plan_create = document["components"]["schemas"]["PlanCreate"]["properties"]["employee_id"]
    assert plan_create["anyOf"][0]["maximum"] == ID_MAX
    assert isinstance(plan_create["anyOf"][0]["maximum"], int)


@pytest.fixture
def org(db):
    found = bank(db)
    db.commit()
    return found


def test_a_form_field_besides_the_file_is_refused(client, csrf, login, org) -> None:
    login(client, org.hr_a)
    text = f"employee_no,year,quarter,level\n{org.employee.employee_no},2025,1,5\n".encode()
    answer = client.post("/api/assessments/import/quarterly?lang=en", data={"note": "x"},
                         files={"file": ("levels.csv", text, "text/csv")},
                         headers={"X-CSRF-Token": csrf(client)})
    assert answer.status_code == 422 and "note" in answer.json()["errors"]


def test_an_action_field_that_is_no_scalar_is_refused(client, csrf, login, org) -> None:
    login(client, org.employee)
    answer = client.post("/api/plans/1/actions/propose", json={"payload": {"comment": {"a": 1}}},
                         headers={"X-CSRF-Token": csrf(client)})
    assert answer.status_code == 422 and "payload.comment" in str(answer.json()["errors"])
