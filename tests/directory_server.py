"""A real OpenLDAP server (Debian's slapd) on loopback with a generated configuration, TLS from a
throwaway CA, and an LDIF of test people and groups, for directory sign-in tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.pg_clusters import alive
from tests.smtp_sink import free_port

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=bank,dc=example"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "directory-admin-secret"
SERVICE_DN = f"cn=stepwise,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-account-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
HR_GROUP = f"cn=stepwise-hr,{GROUPS}"
ADMIN_GROUP = f"cn=stepwise-admins,{GROUPS}"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


@dataclass(frozen=True)
class DirectoryPerson:
    """A person in the test directory."""

    uid: str
    employee_no: str
    password: str
    groups: tuple[str, ...] = ()

    @property
    def dn(self) -> str:
        """The entry's distinguished name."""
        return f"uid={self.uid},{PEOPLE}"


# Employee numbers the tests give to people in the database (D2001…); D2999 has no one there.
ZHANG = DirectoryPerson("zhang.wei", "D2001", "Zhang-directory-pw1", (HR_GROUP,))
LI = DirectoryPerson("li.na", "D2002", "Li-directory-pw2")
CHEN = DirectoryPerson("chen.jie", "D2003", "Chen-directory-pw3", (ADMIN_GROUP,))
STRANGER = DirectoryPerson("wang.fang", "D2999", "Wang-directory-pw9")
EVERYONE = (ZHANG, LI, CHEN, STRANGER)


def slapd_missing() -> str | None:
    """Why the directory cannot run here, or None."""
    for tool in (SLAPD, SLAPADD):
        if not Path(tool).exists():
            return f"{tool} is not installed (scripts/system-deps.sh installs slapd)"
    return None


def _ldif() -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Bank\ndc: bank",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: stepwise\nuserPassword: {SERVICE_PASSWORD}",
    ]
    for person in EVERYONE:
        entries.append(
            f"dn: {person.dn}\nobjectClass: inetOrgPerson\nuid: {person.uid}\n"
            f"cn: {person.uid}\nsn: {person.uid.split('.')[0]}\n"
            f"employeeNumber: {person.employee_no}\nuserPassword: {person.password}"
            + "".join(f"\nmemberOf: {group}" for group in person.groups))
    for group in (HR_GROUP, ADMIN_GROUP):
        members = [p.dn for p in EVERYONE if group in p.groups]
        entries.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {group[3:].split(',')[0]}\n"
                       + "\n".join(f"member: {dn}" for dn in members))
    return "\n\n".join(entries) + "\n"


def _config(root: Path, ca: Path, cert: Path, key: Path) -> str:
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {root / 'slapd.pid'}
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {root / 'db'}
overlay memberof
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
"""


def reap_orphans() -> None:
    """Stop and delete test directories whose test run was killed before its teardown."""
    for root in Path(tempfile.gettempdir()).glob("stepwise-slapd-*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # being made right now, or not ours
        if alive(owner):
            continue
        try:
            os.kill(int((root / "slapd.pid").read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        shutil.rmtree(root, ignore_errors=True)


class TestDirectory:
    """slapd with the test people: start, stop (the directory 'goes down'), start again."""

    __test__ = False  # a helper, not a test class

    def __init__(self) -> None:
        reap_orphans()
        self.root = Path(tempfile.mkdtemp(prefix="stepwise-slapd-"))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.port, self.tls_port = free_port(), free_port()
        ca = trustme.CA()
        server_cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = self.root / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert, key = self.root / "server.pem", self.root / "server.key"
        server_cert.cert_chain_pems[0].write_to_path(str(cert))
        server_cert.private_key_pem.write_to_path(str(key))
        (self.root / "db").mkdir()
        self.config = self.root / "slapd.conf"
        self.config.write_text(_config(self.root, self.ca_file, cert, key))
        (self.root / "people.ldif").write_text(_ldif())
        subprocess.run([SLAPADD, "-f", str(self.config), "-l", str(self.root / "people.ldif")],
                       check=True, capture_output=True, timeout=30)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Plain LDAP (StartTLS available)."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        """LDAP over TLS from the first byte."""
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def start(self) -> None:
        """Run slapd in the foreground of a child process; wait until it answers."""
        self._process = subprocess.Popen(
            [SLAPD, "-f", str(self.config), "-h", f"{self.url}/ {self.tls_url}/", "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    error = self._process.stderr.read().decode() if self._process.stderr else ""
                    raise RuntimeError(f"slapd did not start: {error[-2000:]}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop slapd (connections are refused until it starts again)."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def close(self) -> None:
        """Stop and remove everything."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
