"""Lockout after repeated sign-in failures, per account and per client address."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from app import clock
from app.auth.models import SignInFailure
from app.config import Settings
from app.errors import DomainError


class SignInLocked(DomainError):
    """Too many failed sign-ins: the account or the address must wait."""

    status_code = 429
    code = "locked"


def _recent(db_session: Session, settings: Settings, column: object, value: str) -> int:
    since = clock.now() - timedelta(seconds=settings.lockout_window_seconds)
    return db_session.exec(
        select(func.count()).select_from(SignInFailure).where(column == value,
                                                              SignInFailure.at > since)
    ).one()


def check_not_locked(db_session: Session, *, account: str, address: str,
                     settings: Settings) -> None:
    """Raise SignInLocked while the account or the address has too many recent failures."""
    minutes = max(settings.lockout_window_seconds // 60, 1)
    if _recent(db_session, settings, SignInFailure.account, account.lower()) >= (
            settings.lockout_account_failures):
        raise SignInLocked("Too many failed sign-ins for this account. "
                           "Try again in {minutes} minutes or reset your password.",
                           minutes=minutes)
    if _recent(db_session, settings, SignInFailure.address, address) >= (
            settings.lockout_address_failures):
        raise SignInLocked("Too many failed sign-ins from your address. "
                           "Try again in {minutes} minutes.", minutes=minutes)


def record_failure(db_session: Session, *, account: str, address: str) -> None:
    """Count one failed attempt (the caller commits it even though sign-in failed)."""
    db_session.add(SignInFailure(account=account.lower()[:60], address=address[:64],
                                 at=clock.now()))


def clear_failures(db_session: Session, *, account: str) -> None:
    """A successful sign-in or password reset forgives the account's earlier failures."""
    db_session.exec(delete(SignInFailure).where(SignInFailure.account == account.lower()))
