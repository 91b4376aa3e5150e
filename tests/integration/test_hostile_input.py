"""Hostile input is inert: escaped on every page; headers forbid inline script and framing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import Session

from app.plans import service
from app.plans.schemas import GapDraft
from tests.factories import bank
from tests.integration.test_plan_service import fill_to_proposal

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SCRIPT = "<script>alert('xss')</script>"
IMAGE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


@pytest.fixture
def hostile_plan(db: Session, people, client):
    """A plan whose title, gap and send-back reason carry script (definitions synced by client)."""
    plan = service.start_plan(db, employee=people.employee, initiator=people.employee,
                              title=f"标题{SCRIPT}",
                              gaps=[GapDraft(requirement=f"要求{IMAGE}", actual=f"实际{SCRIPT}")])
    db.commit()
    fill_to_proposal(db, people, plan)
    service.act(db, plan_id=plan.id, actor=people.manager_a, trigger="send_back",
                payload={"reason": f"退回{SCRIPT}"})
    db.commit()
    return plan


def test_script_bearing_plan_content_is_escaped_on_every_page(client, login, people,
                                                              hostile_plan) -> None:
    login(client, people.manager_a)
    pages = [f"/plans/{hostile_plan.id}", f"/plans/{hostile_plan.id}/print", "/plans", "/tasks",
             f"/instances/{hostile_plan.instance_id}"]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text and IMAGE not in page.text, path
        assert "onerror=" not in page.text.replace("onerror=&#34;", ""), path
    detail = client.get(f"/plans/{hostile_plan.id}").text
    assert "&lt;script&gt;" in detail


def test_api_returns_hostile_text_as_data_not_markup(client, login, people, hostile_plan) -> None:
    login(client, people.employee)
    answer = client.get(f"/api/plans/{hostile_plan.id}")
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["title"] == f"标题{SCRIPT}"


def test_every_response_carries_the_security_headers(client, login, people) -> None:
    for response in (client.get("/login"), client.get("/api/me"), client.get("/no-such-page")):
        headers = response.headers
        csp = headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_templates_hold_no_inline_script_or_event_handlers() -> None:
    pages = [p for p in TEMPLATES.rglob("*.html") if "email" not in p.parts]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), page
        assert not re.search(r"\son[a-z]+\s*=", text), page
        assert "javascript:" not in text, page


def test_action_links_are_rate_limited_per_address(app, client) -> None:
    app.state.settings.rate_limit_action_link_per_minute = 3
    codes = [client.get("/act/made-up-token").status_code for _ in range(4)]
    assert codes[-1] == 429 and 429 not in codes[:3]


def test_oversized_ids_are_not_found_rather_than_errors(client, login, people) -> None:
    login(client, people.employee)
    assert client.get(f"/api/plans/{2**70}").status_code == 404
    assert client.get(f"/plans/{2**70}").status_code == 404
