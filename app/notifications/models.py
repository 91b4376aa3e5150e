"""The outbox, single-use action links, and each person's notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models_base import created_at_field, json_field, request_id_field, timestamp_field


class MessageKind:
    """What a message is about."""

    before_due = "before_due"
    on_due = "on_due"
    overdue = "overdue"
    escalation = "escalation"
    final_result = "final_result"
    filing_notice = "filing_notice"  # for information: an appointment filed with head office
    digest = "digest"

    reminders = (before_due, on_due, overdue)


# Mail whose link lets its holder in (a password reset): delivered by an e-mail server to its
# owner only, never kept readable in the built-in mailbox.
CREDENTIAL_KINDS = frozenset({"password_reset"})


class MessageStatus:
    """Lifecycle of an outbox row."""

    pending = "pending"  # waiting to be delivered (or retried after send_after)
    held = "held"  # the recipient wants a daily digest: waits for it
    digested = "digested"  # went out inside a digest
    sent = "sent"
    failed = "failed"  # refused for good (bad address…): visible to HR, retried on request
    obsolete = "obsolete"  # no longer true when its turn came (task done, a later reminder)


class OutboxMessage(SQLModel, table=True):
    """One message to one person; the key makes creating it twice impossible."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_status_send_after", "status", "send_after"),
        Index("ix_outbox_message_recipient_status", "recipient_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=20)
    recipient_id: int = Field(foreign_key="person.id")
    instance_id: int | None = Field(default=None, foreign_key="workflow_instance.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    params: dict[str, Any] = json_field()
    to_address: str = Field(default="", max_length=254)
    locale: str = Field(default="", max_length=10)
    subject: str = Field(default="", max_length=300)
    body_text: str = Field(default="", sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    status: str = Field(default=MessageStatus.pending, max_length=20)
    send_after: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    lease_until: datetime | None = timestamp_field()
    leased_by: str = Field(default="", max_length=80)
    transport: str = Field(default="", max_length=20)  # "smtp" or "mailbox"
    sent_at: datetime | None = timestamp_field()
    digest_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    created_at: datetime = created_at_field()
    # The request or batch that queued the message: sent on as the X-Request-ID mail header.
    request_id: str | None = request_id_field()


class ActionLink(SQLModel, table=True):
    """A single-use, expiring link that lets one person take one action on one task.

    Only the SHA-256 of the token is stored: the token itself exists in the email alone.
    """

    __tablename__ = "action_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    instance_id: int = Field(foreign_key="workflow_instance.id")
    trigger: str = Field(max_length=60)
    state: str = Field(max_length=60)
    on_behalf_of_id: int | None = Field(default=None, foreign_key="person.id")
    requires_login: bool = False
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = timestamp_field()
    message_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    created_at: datetime = created_at_field()


class NotificationPreference(SQLModel, table=True):
    """How a person wants to hear from Stepwise (no row: the organisation's default)."""

    __tablename__ = "notification_preference"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    daily_digest: bool = False
    updated_at: datetime = created_at_field()
