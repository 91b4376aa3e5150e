"""Identity tables: sessions, sign-in failures, password resets, API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models_base import created_at_field, request_id_field, timestamp_field


class WebSession(SQLModel, table=True):
    """A signed-in browser session; the cookie carries only its random id (stored hashed)."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    issued_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    address: str = Field(default="", max_length=64)
    revoked_at: datetime | None = timestamp_field()


class SignInFailure(SQLModel, table=True):
    """One failed sign-in attempt: counted per account and per client address for lockout."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_account_at", "account", "at"),
        Index("ix_sign_in_failure_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=60)
    address: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class PasswordReset(SQLModel, table=True):
    """A password-reset request; its single-use link token is stored only as a hash.

    The request only records the account as typed (the same work whether it exists or not);
    the sweep resolves it to a person, or closes it when there is none.
    """

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(default="", max_length=60)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    # The request that asked for it: its mail, queued later by the sweep, carries that id.
    request_id: str | None = request_id_field()


class ApiToken(SQLModel, table=True):
    """A personal API token (shown once, stored hashed), read-only or read-write, revocable."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=12)
    token_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(default="read", max_length=10)  # "read" or "write"
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = timestamp_field()
    revoked_at: datetime | None = timestamp_field()
