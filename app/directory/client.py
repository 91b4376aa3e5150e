"""Talking to the bank's directory (OpenLDAP, Active Directory) with ldap3: connect with TLS
and timeouts, bind, find a person's entry and groups."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from app.config import Settings
from app.errors import DomainError
from app.i18n import N_

log = logging.getLogger("stepwise.directory")
# LDAP's answer to a wrong password (and, binding as the person, to an unknown name too).
INVALID_CREDENTIALS = 49
NO_ATTRIBUTES = ["1.1"]  # RFC 4511: return no attributes, only the DNs
UNAVAILABLE = N_("The bank's directory cannot be reached, so directory passwords cannot be "
                 "checked right now. Please try again in a few minutes; if it goes on, tell IT.")


class DirectoryUnavailable(DomainError):
    """The directory cannot be reached or refused our service account: nobody's fault who
    is signing in, so it is not counted as a failed attempt."""

    status_code = 503
    code = "directory_unavailable"


@dataclass(frozen=True)
class DirectoryEntry:
    """What sign-in needs from a person's entry: where it is, the employee number, groups."""

    dn: str
    employee_no: str
    groups: list[str] = field(default_factory=list)


def servers(settings: Settings) -> list[Server]:
    """One ldap3 Server per URL in STEPWISE_DIRECTORY_URL, tried in the order given."""
    # No version: ldap3 then starts from ssl.create_default_context (system CAs unless a file
    # is given) and checks the host name itself when the certificate is verified.
    tls = Tls(validate=ssl.CERT_REQUIRED if settings.directory_tls_verify else ssl.CERT_NONE,
              ca_certs_file=settings.directory_ca_file or None)
    found = []
    for url in settings.directory_url.split():
        parts = urlsplit(url)
        secure = parts.scheme.lower() == "ldaps"
        found.append(Server(parts.hostname or url, port=parts.port or (636 if secure else 389),
                            use_ssl=secure, tls=tls, get_info=NONE,
                            connect_timeout=settings.directory_timeout_seconds))
    return found


@contextmanager
def connection(settings: Settings, user: str | None = None, password: str | None = None
               ) -> Iterator[tuple[Connection, bool]]:
    """An open connection (StartTLS when asked) and whether the bind as `user` succeeded;
    DirectoryUnavailable when no server answers. Anonymous when no user is given."""
    problems = []
    for server in servers(settings):
        conn = Connection(server, user=user, password=password, read_only=True,
                          receive_timeout=settings.directory_timeout_seconds,
                          raise_exceptions=False, auto_referrals=False)
        try:
            conn.open()
            if settings.directory_start_tls and not server.ssl:
                conn.start_tls()
            bound = conn.bind() if user is not None else True
        except LDAPException as exc:
            problems.append(f"{server.host}:{server.port}: {type(exc).__name__}: {exc}")
            _close(conn)
            continue
        answer = conn.result or {}
        if not bound and answer.get("result") != INVALID_CREDENTIALS:
            # Answered, but neither yes nor a wrong password (busy, unwilling, TLS required…).
            problems.append(f"{server.host}:{server.port}: bind answered "
                            f"{answer.get('description')} {answer.get('message')}")
            _close(conn)
            continue
        try:
            yield conn, bound
        except LDAPException as exc:
            log.warning("directory request failed on %s:%s: %s", server.host, server.port, exc)
            raise DirectoryUnavailable(UNAVAILABLE) from exc
        finally:
            _close(conn)
        return
    log.warning("directory unreachable: %s", "; ".join(problems) or "no server configured")
    raise DirectoryUnavailable(UNAVAILABLE)


def _close(conn: Connection) -> None:
    """Say goodbye; a connection that already broke cannot, and need not."""
    try:
        conn.unbind()
    except LDAPException:
        pass


def user_filter(settings: Settings, username: str) -> str:
    """The search filter for a sign-in name (escaped: a name cannot widen the search)."""
    return settings.directory_user_filter.replace("{username}", escape_filter_chars(username))


def user_dn(settings: Settings, username: str) -> str:
    """The entry to bind as, from the template (escaped: a name cannot change the path)."""
    return settings.directory_user_dn_template.replace("{username}", escape_rdn(username))


def _first(values: object) -> str:
    if isinstance(values, list | tuple):
        return str(values[0]).strip() if values else ""
    return str(values or "").strip()


def read_entry(settings: Settings, conn: Connection, *, dn: str | None = None,
               username: str | None = None) -> DirectoryEntry | None:
    """The person's entry, by its DN or by searching for the sign-in name; None when there is
    no such person or the name matches more than one entry."""
    number_attr = settings.directory_employee_number_attribute
    attributes = [number_attr, "memberOf"]
    if dn is not None:
        conn.search(dn, "(objectClass=*)", BASE, attributes=attributes)
    else:
        conn.search(settings.directory_search_base, user_filter(settings, username or ""),
                    SUBTREE, attributes=attributes, size_limit=2)
    found = [r for r in conn.response or [] if r.get("type") == "searchResEntry"]
    if len(found) != 1:
        if len(found) > 1:
            log.warning("directory: the sign-in name matches %s entries; refused", len(found))
        return None
    attrs = found[0].get("attributes", {})
    groups = attrs.get("memberOf") or []
    return DirectoryEntry(found[0]["dn"], _first(attrs.get(number_attr)),
                          [str(g) for g in (groups if isinstance(groups, list) else [groups])])


def group_dns(settings: Settings, conn: Connection, entry: DirectoryEntry) -> list[str]:
    """The groups the person belongs to: searched under the group base, or the entry's
    memberOf attribute (Active Directory, OpenLDAP's memberof overlay)."""
    if not settings.directory_group_search_base:
        return entry.groups
    conn.search(settings.directory_group_search_base,
                settings.directory_group_filter.replace("{dn}", escape_filter_chars(entry.dn)),
                SUBTREE, attributes=NO_ATTRIBUTES)
    return [r["dn"] for r in conn.response or [] if r.get("type") == "searchResEntry"]
