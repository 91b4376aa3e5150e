"""Errors: a calm page or a JSON detail, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factories import bank

WEB_WORKFLOWS = Path(__file__).resolve().parent.parent / "data" / "web_workflows"


@pytest.fixture
def workflows_dir() -> Path:
    """These tests run on the small web-test workflow."""
    return WEB_WORKFLOWS


def test_unknown_page_is_a_404_page_in_the_browsers_language(client):
    page = client.get("/no/such/page", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 404
    assert "The page you asked for does not exist" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_unexpected_error_shows_a_calm_page_without_traceback(app):
    def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/explode", explode)
    app.add_api_route("/api/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/explode", headers={"Accept-Language": "en"})
        api = client.get("/api/explode", headers={"Accept-Language": "en"})
    assert page.status_code == 500
    assert "Something went wrong on our side." in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text
    assert api.status_code == 500
    assert api.json()["code"] == "server_error"
    assert "secret internals" not in api.text


def test_wrong_method_is_405_not_500(db, client, login):
    b = bank(db)
    login(client, b.employee)
    assert client.get("/logout").status_code == 405


def test_production_cookies_are_secure(app_settings, engine):
    from app.main import create_app

    app_settings.environment = "production"
    with TestClient(create_app(app_settings, engine), base_url="https://testserver") as client:
        response = client.get("/login")
    assert "secure" in response.headers["set-cookie"].lower()
