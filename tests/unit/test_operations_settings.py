"""Operations settings refuse what cannot work; logs are JSON in production, text otherwise."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.cli import prepare_metrics_dir
from app.config import Settings
from app.observability.logs import configure_logging
from app.request_context import acceptable, bound_request_id


def test_a_replica_needs_postgresql_as_the_database() -> None:
    with pytest.raises(ValidationError, match="REPLICA_URL needs PostgreSQL"):
        Settings(database_url="sqlite:///x.db", database_replica_url="postgresql://r/db")


def test_a_directory_needs_a_way_to_find_the_person() -> None:
    with pytest.raises(ValidationError, match="USER_DN_TEMPLATE"):
        Settings(directory_url="ldap://dc1")
    Settings(directory_url="ldap://dc1", directory_search_base="ou=people,dc=bank")


@pytest.mark.parametrize("grant", ["hr@BR01", "role:hr", "owner", "role:hr@"])
def test_group_roles_must_name_a_role_and_a_unit_or_admin(grant: str) -> None:
    with pytest.raises(ValidationError, match="GROUP_ROLES"):
        Settings(directory_group_roles={"cn=hr,ou=groups": grant})


def test_group_roles_accept_roles_committees_and_admin() -> None:
    Settings(directory_group_roles={"cn=a": "admin", "cn=b": "role:hr@BR01",
                                    "cn=c": "committee:leadership_group@BR-01"})


def test_metrics_networks_must_be_networks() -> None:
    with pytest.raises(ValidationError):
        Settings(metrics_networks=["10.0.0.0/33"])


def _one_line(fmt: str, environment: str = "test") -> str:
    buffer = io.StringIO()
    settings = Settings(log_format=fmt, environment=environment,
                        secret_key="a-long-enough-production-secret-value",
                        smtp_host="mail.bank.example", audit_keys={"k1": "k" * 40})
    configure_logging(settings, stream=buffer)
    try:
        with bound_request_id("req-123"):
            logging.getLogger("stepwise.test").info("hello %s", "world", extra={"n": 3})
    finally:
        configure_logging(Settings(environment="test"))
    return buffer.getvalue().strip()


def test_logs_are_one_json_object_a_line_in_production() -> None:
    line = json.loads(_one_line("auto", environment="production"))
    assert line["message"] == "hello world" and line["request_id"] == "req-123"
    assert line["level"] == "INFO" and line["logger"] == "stepwise.test" and line["n"] == 3
    assert line["time"].endswith("+00:00")


def test_logs_are_plain_text_in_development() -> None:
    line = _one_line("auto")
    assert "[req-123] hello world" in line and not line.startswith("{")


def test_only_plain_short_request_ids_are_taken_from_a_proxy() -> None:
    assert acceptable("gw-7f3a9c.1:2")
    for bad in ("", "two words", "x" * 65, "quote\"", "new\nline", "-leading-dash"):
        assert not acceptable(bad), bad


def test_several_workers_share_an_emptied_metrics_directory(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored (unset) after the test
    settings = Settings(var_dir=tmp_path)
    assert prepare_metrics_dir(settings, 1) is None
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_123.db").write_bytes(b"old run")
    path = prepare_metrics_dir(settings, 4)
    assert path == tmp_path / "metrics" and list(path.iterdir()) == []
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)
