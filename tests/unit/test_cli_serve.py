"""`stepwise serve`: refuses what cannot work, else runs the app factory under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import get_settings

runner = CliRunner()


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at an empty var/ directory with its own SQLite database."""
    var = tmp_path / "var"
    monkeypatch.setenv("STEPWISE_VAR_DIR", str(var))
    monkeypatch.setenv("STEPWISE_DATABASE_URL", f"sqlite:///{var / 'stepwise.db'}")
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


def test_serve_refuses_an_unmigrated_database(var_dir: Path) -> None:
    result = runner.invoke(app, ["serve"])

    assert result.exit_code == 1
    assert "run `stepwise migrate` first" in result.stderr


def test_serve_refuses_several_workers_on_sqlite(var_dir: Path) -> None:
    result = runner.invoke(app, ["serve", "--workers", "2"])

    assert result.exit_code == 1
    assert "needs PostgreSQL" in result.stderr


def test_serve_runs_the_app_factory_under_uvicorn(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    runner.invoke(app, ["migrate"])

    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8080"])

    assert result.exit_code == 0, result.output
    assert calls == [(("app.main:create_app",),
                      {"factory": True, "host": "0.0.0.0", "port": 8080, "workers": 1,
                       "access_log": False, "log_config": None, "timeout_keep_alive": 65})]


def test_serve_keeps_idle_connections_as_long_as_the_setting_or_the_option_says(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    runner.invoke(app, ["migrate"])
    monkeypatch.setenv("STEPWISE_KEEP_ALIVE_SECONDS", "120")
    get_settings.cache_clear()

    assert runner.invoke(app, ["serve"]).exit_code == 0
    assert runner.invoke(app, ["serve", "--timeout-keep-alive", "30"]).exit_code == 0

    assert [c["timeout_keep_alive"] for c in calls] == [120, 30]


def test_production_without_a_mail_server_or_audit_key_refuses_to_start(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPWISE_ENVIRONMENT", "production")
    monkeypatch.setenv("STEPWISE_SECRET_KEY", "a-long-random-secret-for-this-test-only-123")
    monkeypatch.setenv("STEPWISE_AUDIT_KEYS", '{"2026": "' + "k" * 40 + '"}')
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "production needs a mail server: set STEPWISE_SMTP_HOST" in result.stderr
    assert "STEPWISE_MAIL_DISABLED=true" in result.stderr

    monkeypatch.setenv("STEPWISE_MAIL_DISABLED", "true")
    monkeypatch.delenv("STEPWISE_AUDIT_KEYS")
    get_settings.cache_clear()
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and "production needs an audit key" in result.stderr

    monkeypatch.setenv("STEPWISE_AUDIT_KEYS", '{"2026": "' + "k" * 40 + '"}')
    get_settings.cache_clear()
    result = runner.invoke(app, ["serve"])  # the settings are accepted: only the schema is not
    assert result.exit_code == 1 and "run `stepwise migrate` first" in result.stderr
    assert get_settings().mail_transport == "off"
