"""Checking a sign-in: against the bank's directory when one is configured, with Stepwise's own
passwords for the people the directory does not know (and, while it is down, administrators)."""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.auth import service
from app.auth.passwords import dummy_hash, verify_password
from app.config import Settings
from app.directory.client import (
    UNAVAILABLE,
    DirectoryEntry,
    DirectoryUnavailable,
    connection,
    group_dns,
    read_entry,
    user_dn,
)
from app.directory.roles import sync_roles
from app.errors import NotAuthenticated
from app.i18n import N_
from app.org.models import Person
from app.org.service import get_person_by_number

log = logging.getLogger("stepwise.directory")
WRONG = N_("The user name or the password is not correct.")
NOT_SET_UP = N_("Your directory account is not set up in Stepwise (employee number {number}). "
                "Please ask HR to add you.")
NO_NUMBER = N_("Your directory entry has no employee number, so Stepwise cannot tell who you "
               "are. Please ask IT to add it.")
MAX_NAME = 256


def directory_enabled(settings: Settings) -> bool:
    """Whether sign-in asks the bank's directory."""
    return bool(settings.directory_url)


def check_password(settings: Settings, username: str, password: str) -> DirectoryEntry | None:
    """The person's directory entry (with groups) when the password is right.

    None when the directory does not know the name, or, bound as the person, refuses the bind
    (it does not say whether the name or the password was wrong); NotAuthenticated for a wrong
    password of a name found by the search; DirectoryUnavailable when no server answers.
    """
    if settings.directory_bind_dn:
        with connection(settings, settings.directory_bind_dn,
                        settings.directory_bind_password) as (conn, bound):
            if not bound:
                log.error("directory: the service account %s was refused",
                          settings.directory_bind_dn)
                raise DirectoryUnavailable(UNAVAILABLE)
            entry = read_entry(settings, conn, username=username)
            if entry is None:
                return None
            with connection(settings, entry.dn, password) as (_user_conn, ok):
                if not ok:
                    raise NotAuthenticated(WRONG)
            return DirectoryEntry(entry.dn, entry.employee_no, group_dns(settings, conn, entry))
    dn = user_dn(settings, username)
    with connection(settings, dn, password) as (conn, ok):
        if not ok:
            return None
        entry = read_entry(settings, conn, dn=dn)
        if entry is None:  # bound, yet may not read its own entry: the ACLs need a look
            log.error("directory: %s may not read its own entry", dn)
            raise DirectoryUnavailable(UNAVAILABLE)
        return DirectoryEntry(entry.dn, entry.employee_no, group_dns(settings, conn, entry))


def _local(db_session: Session, username: str, password: str, *, admins_only: bool = False
           ) -> Person | None:
    """The person whose Stepwise password this is (optionally administrators only), or None."""
    try:
        person = service.authenticate(db_session=db_session, employee_no=username,
                                      password=password)
    except NotAuthenticated:
        return None
    return person if person.is_admin or not admins_only else None


def _person(db_session: Session, entry: DirectoryEntry) -> Person:
    """The Stepwise person behind a directory entry (its employee number)."""
    if not entry.employee_no:
        log.warning("directory: %s has no employee number attribute", entry.dn)
        raise NotAuthenticated(NO_NUMBER)
    person = get_person_by_number(db_session, entry.employee_no)
    if person is None or not person.active:
        raise NotAuthenticated(NOT_SET_UP, number=entry.employee_no)
    return person


def authenticate(db_session: Session, *, settings: Settings, username: str,
                 password: str) -> Person:
    """The person signing in with this name and password, or NotAuthenticated; with a
    directory configured DirectoryUnavailable when it cannot be asked."""
    username = username.strip()
    if not directory_enabled(settings):
        return service.authenticate(db_session=db_session, employee_no=username,
                                    password=password)
    if not username or not password or len(username) > MAX_NAME or not username.isprintable():
        # An empty password would be an anonymous bind, which directories accept.
        verify_password(dummy_hash(), password)
        raise NotAuthenticated(WRONG)
    fallback = settings.directory_local_fallback
    try:
        entry = check_password(settings, username, password)
    except DirectoryUnavailable:
        # Break-glass: an administrator's own Stepwise password still opens the door.
        person = _local(db_session, username, password, admins_only=True) if fallback else None
        if person is None:
            raise
        log.warning("directory down: administrator %s signed in with a Stepwise password",
                    person.id)
        return person
    if entry is None:
        person = _local(db_session, username, password) if fallback else None
        if person is None:
            if not fallback:
                verify_password(dummy_hash(), password)
            raise NotAuthenticated(WRONG)
        return person
    person = _person(db_session, entry)
    sync_roles(db_session, person=person, groups=entry.groups, settings=settings)
    return person
