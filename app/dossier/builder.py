"""Build a plan's dossier: versions, sign-offs, the verified audit trail and the messages sent."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel, select

from app import clock
from app.engine import access, audit
from app.engine.models import AuditEvent, SignOff, WorkflowInstance
from app.errors import PlanNotFound
from app.notifications.delivery import redact_links
from app.notifications.models import OutboxMessage
from app.org.models import Person
from app.plans.models import ImprovementPlan, PlanVersion


def _plain(row: SQLModel, *fields: str) -> dict[str, Any]:
    """Chosen columns of a row as JSON-ready values."""
    out = {}
    for name in fields:
        value = getattr(row, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True,
                      default=str).encode("utf-8")


def may_export(db_session: Session, *, viewer: Person, plan: ImprovementPlan) -> bool:
    """HR holding the plan's unit (or one above it) may take the dossier; no one else."""
    return access.holds_scope_over(db_session, viewer, plan.org_unit_id)


def plan_for_export(db_session: Session, *, plan_id: int, viewer: Person) -> ImprovementPlan:
    """The plan, if the viewer is HR in scope; otherwise it does not exist for them."""
    plan = db_session.get(ImprovementPlan, plan_id)
    if plan is None or not may_export(db_session, viewer=viewer, plan=plan):
        raise PlanNotFound("No improvement plan {id}.", id=plan_id)
    return plan


def dossier_files(db_session: Session, plan: ImprovementPlan) -> dict[str, bytes]:
    """The archive's files by name (JSON, UTF-8)."""
    instance = db_session.get(WorkflowInstance, plan.instance_id)
    assert instance is not None
    versions = db_session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan.id)
                               .order_by(PlanVersion.number))
    sign_offs = db_session.exec(select(SignOff).where(SignOff.instance_id == instance.id)
                                .order_by(SignOff.at, SignOff.id))
    events: list[AuditEvent] = audit.trail(db_session, instance.id)
    breaks = audit.verify(db_session, instance.id)
    messages = db_session.exec(select(OutboxMessage).where(OutboxMessage.instance_id == instance.id)
                               .order_by(OutboxMessage.created_at, OutboxMessage.id))
    return {
        "plan.json": _json({
            **_plain(plan, "id", "title", "employee_id", "supervisor_id", "org_unit_id", "cycle",
                     "created_at", "updated_at"),
            "instance": _plain(instance, "id", "workflow", "state", "created_at", "closed_at"),
        }),
        "versions.json": _json([
            _plain(v, "number", "content", "content_hash", "reason", "created_by_id",
                   "created_at") for v in versions]),
        "sign_offs.json": _json([
            _plain(s, "state", "trigger", "signer_id", "on_behalf_of_id", "meaning",
                   "disagreement", "content_hash", "at", "voided_at", "consumed_at")
            for s in sign_offs]),
        "audit_trail.json": _json({
            "verification": {"intact": not breaks,
                             "breaks": [{"seq": b.seq, "problem": b.problem} for b in breaks]},
            "events": [_plain(e, "seq", "at", "actor_id", "on_behalf_of_id", "trigger",
                              "from_state", "to_state", "comment", "payload", "payload_hash",
                              "prev_hash", "hash") for e in events],
        }),
        "messages.json": _json([
            {**_plain(m, "kind", "recipient_id", "to_address", "locale", "subject", "status",
                      "transport", "created_at", "sent_at"),
             "body_text": redact_links(m.body_text)} for m in messages]),
    }


def build_dossier(db_session: Session, plan: ImprovementPlan,
                  now: datetime | None = None) -> bytes:
    """The dossier as zip bytes, with a manifest of every file's SHA-256."""
    files = dossier_files(db_session, plan)
    manifest = {
        "plan_id": plan.id,
        "generated_at": (now or clock.now()).isoformat(),
        "files": {name: audit.sha256_hex(data.decode("utf-8")) for name, data in files.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", _json(manifest))
    return buffer.getvalue()
