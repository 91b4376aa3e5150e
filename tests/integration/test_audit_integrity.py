"""Tamper-evident audit: `stepwise audit verify` names each case whose history was deleted,
edited or cut short, with or without the audit key, and each replaced checkpoint file."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import get_settings
from app.dossier.builder import build_dossier
from app.engine import audit, runtime
from app.engine.models import AuditHead, WorkflowInstance
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


def verify_cli(*args: str):
    return runner.invoke(cli, ["audit", "verify", *args])


def rewrite_without_key(db: Session, instance_id: int, seq: int, comment: str) -> None:
    """What a DBA can do: edit an event, recompute its hash and every later hash and the head
    (but not the seals: the key is not in the database)."""
    events = audit.trail(db, instance_id)
    events[seq - 1].comment = comment
    prev = events[seq - 2].hash if seq > 1 else ""
    for event in events[seq - 1:]:
        event.prev_hash = prev
        event.hash = audit.event_hash(event)
        prev = event.hash
        db.add(event)
    head = db.get(AuditHead, instance_id)
    head.hash = prev
    db.add(head)
    db.commit()


@pytest.fixture
def checkpoints_env(cli_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checkpoints written into their own directory with a key made for the test."""
    directory = tmp_path / "worm"
    monkeypatch.setenv("STEPWISE_AUDIT_CHECKPOINT_DIR", str(directory))
    get_settings.cache_clear()
    return directory


def test_an_untouched_trail_verifies_with_its_checkpoints(db, signed_plan,
                                                           checkpoints_env) -> None:
    assert len(audit.trail(db, signed_plan.instance_id)) >= 5
    assert {e.key_id for e in audit.trail(db, signed_plan.instance_id)} == {"dev"}
    assert audit.verify(db) == []
    written = runner.invoke(cli, ["audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    result = verify_cli("--checkpoints", str(checkpoints_env))
    assert result.exit_code == 0, result.output
    assert "matches the signed checkpoints" in result.output


def test_an_edited_event_is_reported_naming_the_case(db, signed_plan, cli_env) -> None:
    run_sql(db, "UPDATE audit_event SET comment = 'rewritten' WHERE instance_id = :i AND seq = 3",
            i=signed_plan.instance_id)
    [found] = audit.verify(db)
    assert (found.instance_id, found.seq, found.problem) == (signed_plan.instance_id, 3, "hash")
    result = verify_cli()
    assert result.exit_code == 1
    assert f'case {signed_plan.instance_id} (improvement_plan, "报表迟报") at event 3' \
        in result.output


def test_a_rewrite_with_every_hash_and_the_head_recomputed_fails_on_the_seal(
        db, signed_plan, cli_env) -> None:
    rewrite_without_key(db, signed_plan.instance_id, 2, "nothing happened")
    [found] = audit.verify(db)
    assert (found.instance_id, found.seq, found.problem) == (signed_plan.instance_id, 2, "seal")
    result = verify_cli()
    assert result.exit_code == 1
    assert f"case {signed_plan.instance_id} (" in result.output and "seal" in result.output


def test_a_deleted_case_history_is_found(db, signed_plan, org, cli_env) -> None:
    other = new_plan(db, org)  # a second case keeps its history
    run_sql(db, "DELETE FROM audit_event WHERE instance_id = :i", i=signed_plan.instance_id)
    run_sql(db, "DELETE FROM audit_head WHERE instance_id = :i", i=signed_plan.instance_id)
    [found] = audit.verify(db)
    assert (found.instance_id, found.problem) == (signed_plan.instance_id, "no_history")
    assert audit.verify(db, other.instance_id) == []
    result = verify_cli()
    assert result.exit_code == 1 and f"case {signed_plan.instance_id} (" in result.output
    assert "no audit history" in result.output


def test_a_deleted_event_in_the_middle_is_reported(db, signed_plan, cli_env) -> None:
    run_sql(db, "DELETE FROM audit_event WHERE instance_id = :i AND seq = 2",
            i=signed_plan.instance_id)
    [found] = audit.verify(db)
    assert (found.seq, found.problem) == (2, "missing")
    assert verify_cli().exit_code == 1


def test_deleted_newest_events_are_reported_even_with_the_head_moved_back(
        db, signed_plan, cli_env) -> None:
    last = audit.trail(db, signed_plan.instance_id)[-1]
    run_sql(db, "DELETE FROM audit_event WHERE instance_id = :i AND seq = :s",
            i=signed_plan.instance_id, s=last.seq)
    [found] = audit.verify(db)
    assert (found.seq, found.problem) == (last.seq, "missing")
    before = audit.trail(db, signed_plan.instance_id)[-1]
    run_sql(db, "UPDATE audit_head SET seq = :s, hash = :h WHERE instance_id = :i",
            s=before.seq, h=before.hash, i=signed_plan.instance_id)
    [found] = audit.verify(db)
    assert (found.seq, found.problem) == (before.seq, "head_seal")
    result = verify_cli("--instance", str(signed_plan.instance_id))
    assert result.exit_code == 1 and f"at event {before.seq}" in result.output


def test_checkpoints_catch_a_rewrite_by_someone_who_has_the_audit_key(
        db, signed_plan, checkpoints_env) -> None:
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    keyring = audit.current_keyring()  # the attacker has it: recompute hashes and seals too
    rewrite_without_key(db, signed_plan.instance_id, 3, "forged")
    assert audit.seal_unsealed(db, keyring=keyring) == (0, [])  # nothing unsealed: reseal all
    for event in audit.trail(db, signed_plan.instance_id):
        event.seal = keyring.seal(event.key_id, f"event\n{event.key_id}\n{event.hash}")
        db.add(event)
    head = db.get(AuditHead, signed_plan.instance_id)
    head.seal = keyring.seal("dev", f"head\n{head.instance_id}\n{head.seq}\n{head.hash}")
    db.add(head)
    db.commit()
    assert audit.verify(db) == []  # the key alone can no longer tell
    result = verify_cli("--checkpoints", str(checkpoints_env))
    assert result.exit_code == 1, result.output
    assert f'case {signed_plan.instance_id} (improvement_plan, "报表迟报")' in result.output
    assert "differs from the signed checkpoint" in result.output


def test_checkpoints_catch_a_case_deleted_with_everything_it_had(
        db, org, checkpoints_env) -> None:
    doomed = runtime.start(db, workflow="improvement_plan", subject=org.colleague,
                           title="将被删除")
    kept = runtime.start(db, workflow="improvement_plan", subject=org.employee, title="保留")
    db.commit()
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    for table in reversed(SQLModel.metadata.sorted_tables):
        if "instance_id" in table.c:
            db.execute(table.delete().where(table.c.instance_id == doomed.id))
    db.execute(sa.delete(WorkflowInstance).where(WorkflowInstance.id == doomed.id))
    db.commit()
    assert audit.verify(db) == []  # nothing left in the database to notice
    result = verify_cli("--checkpoints", str(checkpoints_env))
    assert result.exit_code == 1
    assert f"case {doomed.id}: the case is in a signed checkpoint but no longer" in result.output
    assert f"case {kept.id}" not in result.output


def test_a_replaced_checkpoint_file_is_found(db, signed_plan, org, checkpoints_env,
                                             tmp_path: Path) -> None:
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    service.act(db, plan_id=signed_plan.id, actor=org.manager_a, trigger="sign")
    db.commit()
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    first, second = sorted(checkpoints_env.glob("checkpoint-*.json"))
    assert len(json.loads(second.read_text())["body"]["heads"]) == 1  # only what moved
    document = json.loads(first.read_text())
    document["body"]["heads"] = []  # a forger's file, signed with a key of their own
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = Ed25519PrivateKey.generate().sign(
        audit.canonical_json(document["body"]).encode("utf-8"))
    document["signature"] = base64.b64encode(forged).decode()
    first.chmod(0o644)
    first.write_text(json.dumps(document))
    public = get_settings().audit_signing_key_file.with_name("audit-signing-key.pub.pem")
    result = verify_cli("--checkpoints", str(checkpoints_env), "--public-key", str(public))
    assert result.exit_code == 1
    assert f"{first.name} is not signed by the checkpoint key" in result.output
    first.unlink()
    result = verify_cli("--checkpoints", str(checkpoints_env), "--public-key", str(public))
    assert result.exit_code == 1 and "earlier checkpoint files are missing" in result.output


def test_events_sealed_with_a_rotated_key_verify_while_both_keys_are_configured(
        db, org, registry) -> None:
    old = audit.Keyring({"2026a": b"a" * 32}, "2026a")
    new = audit.Keyring({"2026a": b"a" * 32, "2026b": b"b" * 32}, "2026b")
    try:
        audit.use_keys(old)
        instance = runtime.start(db, workflow="improvement_plan", subject=org.employee)
        audit.use_keys(new)
        runtime.record_event(db, instance, trigger="note", actor=org.employee)
        db.commit()
    finally:
        audit.use_keys(None)
    assert [e.key_id for e in audit.trail(db, instance.id)] == ["2026a", "2026b"]
    assert audit.verify(db, keyring=new) == []
    [found] = audit.verify(db, keyring=audit.Keyring({"2026b": b"b" * 32}, "2026b"))
    assert (found.seq, found.problem) == (1, "unknown_key")


def test_events_from_before_sealing_are_sealed_once_and_broken_chains_are_left(
        db, signed_plan, org, cli_env) -> None:
    other = new_plan(db, org)
    run_sql(db, "UPDATE audit_event SET seal = '', key_id = ''")
    assert {b.problem for b in audit.verify(db)} == {"unsealed"}
    run_sql(db, "UPDATE audit_event SET comment = 'x' WHERE instance_id = :i AND seq = 1",
            i=other.instance_id)
    result = runner.invoke(cli, ["audit", "seal"])
    assert result.exit_code == 1 and f"NOT SEALED case {other.instance_id}" in result.output
    assert audit.verify(db, signed_plan.instance_id) == []


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
