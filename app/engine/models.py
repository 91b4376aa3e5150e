"""Engine tables: definition versions, instances, audit events, tasks and sign-offs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models_base import created_at_field, json_field, request_id_field, timestamp_field


class WorkflowDefinition(SQLModel, table=True):
    """One version of a workflow file, stored verbatim with its content hash."""

    __tablename__ = "workflow_definition"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        UniqueConstraint("name", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, index=True)
    version: int
    content_hash: str = Field(max_length=64)
    source: str = Field(sa_type=Text)
    created_at: datetime = created_at_field()


class WorkflowInstance(SQLModel, table=True):
    """A plan or request moving through its workflow, pinned to one definition version."""

    __tablename__ = "workflow_instance"
    __table_args__ = (Index("ix_workflow_instance_workflow_state", "workflow", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    definition_id: int = Field(foreign_key="workflow_definition.id", index=True)
    workflow: str = Field(max_length=60)
    state: str = Field(max_length=60)
    version: int = Field(default=1)  # optimistic lock: every fire bumps it
    title: str = Field(default="", max_length=200)
    subject_id: int = Field(foreign_key="person.id", index=True)
    initiator_id: int | None = Field(default=None, foreign_key="person.id")
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    context: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    closed_at: datetime | None = timestamp_field()

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        """Every flush checks and bumps `version`: two writers, one winner."""
        return {"version_id_col": cls.__table__.c.version}


class AuditEvent(SQLModel, table=True):
    """What happened to an instance; each event hashes the one before it (per instance)."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="workflow_instance.id", index=True)
    seq: int
    at: datetime = created_at_field()
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="person.id")
    trigger: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=60)
    to_state: str = Field(max_length=60)
    comment: str = Field(default="", sa_type=Text)
    payload: dict[str, Any] = json_field()
    payload_hash: str = Field(max_length=64)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)
    key_id: str = Field(default="", max_length=40)  # which audit key sealed it
    seal: str = Field(default="", max_length=64)  # HMAC of the hash with that key
    # The request or scheduler batch that caused the event, to find its log lines (not sealed:
    # it is a pointer into the logs, not part of what happened).
    request_id: str | None = request_id_field()


class AuditHead(SQLModel, table=True):
    """The last sealed event of an instance's chain, so deleting the newest event is noticed;
    `at` says when it moved (what the next checkpoint must take), `seal` binds it to the key."""

    __tablename__ = "audit_head"

    instance_id: int = Field(primary_key=True, foreign_key="workflow_instance.id")
    seq: int
    hash: str = Field(max_length=64)
    at: datetime | None = timestamp_field(index=True)
    seal: str = Field(default="", max_length=64)


class TaskStatus:
    """Lifecycle of a task row."""

    open = "open"
    done = "done"
    cancelled = "cancelled"


class Task(SQLModel, table=True):
    """Who must act next on an instance: a person, or a role/committee at a unit."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_assignee_status", "assignee_id", "status"),
        Index("ix_task_group_status", "group_kind", "group_name", "org_unit_id", "status"),
        Index("ix_task_status_due", "status", "due_at"),
        # an instance's open tasks (closed on every action): both columns in one index, so no
        # plan combines the instance with every open task of the bank
        Index("ix_task_instance_status", "instance_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="workflow_instance.id")
    state: str = Field(max_length=60)
    kind: str = Field(default="act", max_length=20)  # "act" or "sign_off"
    assignee_id: int | None = Field(default=None, foreign_key="person.id")
    group_kind: str | None = Field(default=None, max_length=20)  # "role" / "committee"
    group_name: str | None = Field(default=None, max_length=60)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    actor_expr: str = Field(default="", max_length=200)
    ref: str = Field(default="", max_length=60)  # the domain item, e.g. "checkpoint:12"
    status: str = Field(default=TaskStatus.open, max_length=20)
    due_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    closed_at: datetime | None = timestamp_field()
    closed_by_id: int | None = Field(default=None, foreign_key="person.id")


class SignOff(SQLModel, table=True):
    """A signature on the exact content (hash) of an instance at one step."""

    __tablename__ = "sign_off"
    __table_args__ = (Index("ix_sign_off_instance_state", "instance_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="workflow_instance.id")
    state: str = Field(max_length=60)
    trigger: str = Field(max_length=60)
    signer_expr: str = Field(max_length=200)
    signer_id: int = Field(foreign_key="person.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="person.id")
    meaning: str = Field(max_length=20)  # "agree", or "acknowledge" (possibly disagreeing)
    disagreement: str = Field(default="", sa_type=Text)
    content_hash: str = Field(default="", max_length=64)
    at: datetime = created_at_field()
    voided_at: datetime | None = timestamp_field()  # content changed after signing
    consumed_at: datetime | None = timestamp_field()  # the step it belonged to is over
