"""The workflows page: every current definition, its states, actions and diagram."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.engine import runtime
from app.engine.registry import Registry
from app.workflows_web import diagrams
from app.workflows_web.diagrams import case_diagram, diagram_svg
from tests.factories import bank

WEB_WORKFLOWS = Path(__file__).resolve().parent.parent / "data" / "web_workflows"


@pytest.fixture
def workflows_dir() -> Path:
    """These tests run on the small web-test workflow."""
    return WEB_WORKFLOWS


def test_workflows_page_shows_each_definition_with_inline_diagram(db, client, login):
    b = bank(db)
    login(client, b.employee)
    page = client.get("/workflows")
    assert page.status_code == 200
    assert "案例审核" in page.text
    assert ">case_review<" not in page.text and "<code>" not in page.text  # no internal ids
    assert ">hr_review<" not in page.text
    assert page.text.count("<svg") == 1
    assert "人力资源部审核中" in page.text  # a state label in the reader's language
    assert "人力资源部（分行）" in page.text  # who acts, in words
    assert "任何步骤均可：取消 → 已取消" in page.text  # drawn once as words, not 4 arrows
    assert "<?xml" not in page.text


def _node_fills(svg: str) -> dict[str, str]:
    """Each state's fill colour in a Graphviz SVG (its <g id="state_NAME" class="node">)."""
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<g id="state_(\w+)" class="node[^"]*">\s*<\w+ fill="(#[0-9a-f]+)"', svg)}


def test_diagram_labels_follow_the_readers_language_and_are_cached(db, registry, monkeypatch):
    registry.sync(db)
    compiled = registry.compiled_current(db, "case_review")
    compiled.diagrams.clear()
    drawn: list[tuple[str, object]] = []
    real = diagrams.render_svg
    monkeypatch.setattr(diagrams, "render_svg",
                        lambda spec, locale, marks=None: drawn.append((locale, marks))
                        or real(spec, locale, marks))

    english = diagram_svg(compiled, "en")
    chinese = diagram_svg(compiled, "zh_CN", "submitted")
    again = diagram_svg(compiled, "en")
    unknown = diagram_svg(compiled, "en", "no_such_state")

    assert ">With HR<" in english and ">Submit<" in english
    assert ">人力资源部审核中<" in chinese and ">提交<" in chinese
    assert _node_fills(chinese)["submitted"] == diagrams.BRAND_BG
    assert diagrams.BRAND_BG not in english
    assert again == english and unknown == english
    assert [locale for locale, _marks in drawn] == ["en", "zh_CN"]


def test_a_cases_diagram_colours_its_steps_by_meaning(db, registry):
    b = bank(db)
    registry.sync(db)
    instance = runtime.start(db, workflow="case_review", subject=b.employee,
                             initiator=b.employee, title="Diagram", registry=registry)
    runtime.fire(db, instance, "submit", b.employee, {"comment": ""}, registry=registry)
    compiled = registry.compiled(db, instance.definition_id)

    svg = str(case_diagram(db, compiled, instance, "en"))

    fills = _node_fills(svg)
    assert fills["submitted"] == diagrams.BRAND_BG  # where the case is: the brand colour
    assert fills["draft"] == diagrams.DONE_BG  # passed: green
    assert fills["cancelled"] == diagrams.STOPPED_BG  # an ending that stops the case: grey
    assert fills["closed"] == "#ffffff" and fills["hr_review"] == "#ffffff"  # still ahead
    assert diagrams.OVERDUE not in svg and diagrams.OVERDUE_BG not in svg  # red means late
    assert 'class="node current"' in svg
    assert svg.count('id="move_draft__submitted"') == 1
    assert '__cancelled"' not in svg  # cancelling is the note below, not arrows
    assert "<title>" not in svg and "<!--" not in svg  # no tooltip with an internal name
    assert "From any step: Cancel → Cancelled" in svg


def test_diagram_image_endpoint_serves_svg(db, client, login):
    b = bank(db)
    login(client, b.employee)
    response = client.get("/workflows/case_review/diagram.svg?state=draft")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert client.get("/workflows/nothing/diagram.svg").status_code == 404


def test_every_project_workflow_renders_on_the_page(db, engine, app_settings, demo_password_hash):
    from fastapi.testclient import TestClient

    from app.main import create_app

    project = Path(__file__).resolve().parent.parent.parent / "workflows"
    app_settings.workflows_dir = project
    names = sorted(_load(project))
    b = bank(db)
    b.employee.password_hash = demo_password_hash
    db.commit()
    with TestClient(create_app(app_settings, engine)) as client:
        client.get("/api/me?lang=en")
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": b.employee.employee_no, "password": "demo",
                                    "csrf_token": token})
        page = client.get("/workflows")
        api = client.get("/api/workflows").json()
    assert page.status_code == 200
    assert page.text.count("<svg") == len(names)
    assert sorted(w["name"] for w in api) == names


def _load(directory: Path) -> dict:
    registry = Registry(directory)
    registry.load()
    return registry.files
