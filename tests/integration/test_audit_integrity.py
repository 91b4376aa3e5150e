"""Tamper-evident audit: `stepwise audit verify` finds the first broken link of each chain."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import get_settings
from app.dossier.builder import build_dossier
from app.engine import audit
from app.notifications.models import OutboxMessage
from app.plans import service
from app.plans.models import ImprovementPlan
from tests.factories import bank
from tests.integration.test_plan_service import fill_to_proposal, new_plan

runner = CliRunner()


@pytest.fixture
def org(db: Session, registry):
    b = bank(db)
    registry.sync(db)
    db.commit()
    return b


@pytest.fixture
def signed_plan(db: Session, org) -> ImprovementPlan:
    """A plan filled in, proposed and signed by the employee: a chain of several events."""
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="sign")
    db.commit()
    return plan


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STEPWISE_DATABASE_URL", database_url)
    monkeypatch.setenv("STEPWISE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_sql(db: Session, sql: str, **params: object) -> None:
    db.execute(sa.text(sql), params)
    db.commit()


def test_an_untouched_trail_verifies(db, signed_plan, cli_env) -> None:
    assert len(audit.trail(db, signed_plan.instance_id)) >= 5
    assert audit.verify(db) == []
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_an_edited_event_is_reported_at_its_seq(db, signed_plan, cli_env) -> None:
    run_sql(db, "UPDATE audit_event SET comment = 'rewritten' WHERE instance_id = :i AND seq = 3",
            i=signed_plan.instance_id)
    [found] = audit.verify(db)
    assert (found.instance_id, found.seq, found.problem) == (signed_plan.instance_id, 3, "hash")
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"instance {signed_plan.instance_id} at seq 3" in result.output


def test_an_edited_payload_is_reported(db, signed_plan) -> None:
    run_sql(db, "UPDATE audit_event SET payload = :p WHERE instance_id = :i AND seq = 2",
            p=json.dumps({"forged": True}), i=signed_plan.instance_id)
    [found] = audit.verify(db, signed_plan.instance_id)
    assert (found.seq, found.problem) == (2, "payload")


def test_a_resealed_edit_breaks_the_next_link(db, signed_plan) -> None:
    """Someone who recomputes the edited event's own hash still breaks the one after it."""
    events = audit.trail(db, signed_plan.instance_id)
    second = events[1]
    second.comment = "rewritten"
    second.hash = audit.event_hash(second)
    db.add(second)
    db.commit()
    [found] = audit.verify(db, signed_plan.instance_id)
    assert (found.seq, found.problem) == (3, "prev_hash")


def test_a_deleted_event_in_the_middle_is_reported(db, signed_plan, cli_env) -> None:
    run_sql(db, "DELETE FROM audit_event WHERE instance_id = :i AND seq = 2",
            i=signed_plan.instance_id)
    [found] = audit.verify(db)
    assert (found.seq, found.problem) == (2, "missing")
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 1


def test_a_deleted_last_event_is_reported(db, signed_plan, cli_env) -> None:
    last = audit.trail(db, signed_plan.instance_id)[-1].seq
    run_sql(db, "DELETE FROM audit_event WHERE instance_id = :i AND seq = :s",
            i=signed_plan.instance_id, s=last)
    [found] = audit.verify(db)
    assert (found.instance_id, found.seq, found.problem) == (signed_plan.instance_id, last,
                                                             "missing")
    result = runner.invoke(cli, ["audit", "verify", "--instance", str(signed_plan.instance_id)])
    assert result.exit_code == 1 and f"at seq {last}" in result.output


def test_dossier_holds_versions_sign_offs_trail_and_messages(db, signed_plan, org) -> None:
    db.add(OutboxMessage(key="t1", kind="final_result", recipient_id=org.employee.id,
                         instance_id=signed_plan.instance_id, subject="结果",
                         body_text="see /act/secret-token-here", status="sent",
                         send_after=signed_plan.created_at))
    db.commit()
    archive = zipfile.ZipFile(io.BytesIO(build_dossier(db, signed_plan)))
    names = set(archive.namelist())
    assert {"plan.json", "versions.json", "sign_offs.json", "audit_trail.json",
            "messages.json", "manifest.json"} <= names
    versions = json.loads(archive.read("versions.json"))
    sign_offs = json.loads(archive.read("sign_offs.json"))
    assert versions and sign_offs
    assert sign_offs[0]["content_hash"] in {v["content_hash"] for v in versions}
    trail = json.loads(archive.read("audit_trail.json"))
    assert trail["verification"] == {"intact": True, "breaks": []}
    assert [e["seq"] for e in trail["events"]] == list(range(1, len(trail["events"]) + 1))
    messages = json.loads(archive.read("messages.json"))
    assert messages[0]["subject"] == "结果" and "secret-token-here" not in messages[0]["body_text"]


def test_export_command_writes_the_zip(db, signed_plan, cli_env, tmp_path: Path) -> None:
    target = tmp_path / "d.zip"
    result = runner.invoke(cli, ["export", "plan", str(signed_plan.id), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert "audit_trail.json" in zipfile.ZipFile(target).namelist()
    missing = runner.invoke(cli, ["export", "plan", "999999"])
    assert missing.exit_code == 1 and "no improvement plan 999999" in missing.output


def test_dossier_download_is_for_hr_in_scope_only(db, app, client, login, org,
                                                  signed_plan) -> None:
    login(client, org.hr_b)
    assert client.get(f"/plans/{signed_plan.id}/dossier").status_code == 404
    client.cookies.clear()
    login(client, org.employee)
    assert client.get(f"/plans/{signed_plan.id}/dossier").status_code == 404
    assert 'id="download-dossier"' not in client.get(f"/plans/{signed_plan.id}").text
    client.cookies.clear()
    login(client, org.hr_a)
    assert 'id="download-dossier"' in client.get(f"/plans/{signed_plan.id}").text
    answer = client.get(f"/plans/{signed_plan.id}/dossier")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert "sign_offs.json" in zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
