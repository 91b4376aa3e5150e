"""Throwaway PostgreSQL clusters beside the test server on 127.0.0.1:5432: a streaming replica
of it (pg_basebackup) and an empty scratch cluster that a test may stop. Each runs on its own
loopback port from a temporary directory, as the postgres user when the tests run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from app.db import make_engine
from tests.smtp_sink import free_port

# Settings a hot standby must hold at least as high as its primary, or it will not start.
STANDBY_MINIMUMS = ("max_connections", "max_worker_processes", "max_wal_senders",
                    "max_prepared_transactions", "max_locks_per_transaction")


def _admin(url: str) -> Engine:
    return make_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run the command as postgres."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


PREFIXES = ("stepwise-replica-", "stepwise-scratch-")
OWNER_FILE = "owner.pid"  # the test process that made the cluster


def alive(pid: int) -> bool:
    """Whether a process with this id still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(bindir: Path) -> None:
    """Stop and delete clusters whose test run was killed before its teardown (a replica left
    running would hold a connection to the primary for ever)."""
    for prefix in PREFIXES:
        for root in Path(tempfile.gettempdir()).glob(prefix + "*"):
            try:
                owner = int((root / OWNER_FILE).read_text())
            except (OSError, ValueError):
                continue
            if not alive(owner):
                LocalCluster(bindir, root, 0).remove()


def _own_directory(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER_FILE).write_text(str(os.getpid()))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    path.chmod(0o700)
    return path


def server_bindir(primary_url: str) -> Path | None:
    """The binaries of the primary's major version (Debian keeps one folder per version)."""
    with _admin(primary_url).connect() as conn:
        major = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin"),):
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


class LocalCluster:
    """One extra cluster: its data directory, port and server binaries."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir, self.root, self.port = bindir, root, port
        self.data = root / "data"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for one database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(_as_owner([str(self.bindir / args[0]), *args[1:]]),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {(result.stderr or result.stdout)[-2000:]}")

    def write_config(self, extra: dict[str, str]) -> None:
        """postgresql.conf, pg_hba.conf and pg_ident.conf for a loopback-only test cluster."""
        settings = {"port": str(self.port), "listen_addresses": "'127.0.0.1'",
                    "unix_socket_directories": f"'{self.root}'", "fsync": "off",
                    "synchronous_commit": "off", "full_page_writes": "off",
                    "shared_buffers": "'32MB'", **extra}
        (self.data / "postgresql.conf").write_text(
            "".join(f"{key} = {value}\n" for key, value in settings.items()))
        (self.data / "pg_hba.conf").write_text("local all all trust\n"
                                               "host all all 127.0.0.1/32 trust\n")
        (self.data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
                shutil.chown(self.data / name, "postgres", "postgres")

    def start(self) -> None:
        """Start and wait until it accepts connections (a standby: read-only ones)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "start")

    def stop(self) -> None:
        """Stop at once (the 'database stops')."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        """Stop if running and delete everything."""
        try:
            self.stop()
        except RuntimeError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def create_replica(primary_url: str) -> LocalCluster:
    """A hot standby of the primary, streaming from it (base backup with a fast checkpoint;
    the primary is only read, never reconfigured or restarted)."""
    bindir = server_bindir(primary_url)
    if bindir is None:
        raise RuntimeError("the PostgreSQL server binaries (pg_basebackup, pg_ctl) are missing")
    reap_orphans(bindir)
    primary = make_url(primary_url)
    with _admin(primary_url).connect() as conn:
        minimums = {name: str(conn.execute(sa.text(f"SHOW {name}")).scalar_one())
                    for name in STANDBY_MINIMUMS}
    cluster = LocalCluster(bindir, _own_directory("stepwise-replica-"), free_port())
    try:
        cluster._run("pg_basebackup", "-h", primary.host or "127.0.0.1",
                     "-p", str(primary.port or 5432), "-U", primary.username or "postgres",
                     "-D", str(cluster.data), "-X", "stream", "-R", "-c", "fast", "--no-sync",
                     timeout=600)
        cluster.write_config({"hot_standby": "on", **minimums})
        cluster.start()
    except BaseException:
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise
    return cluster


def create_scratch(primary_url: str) -> LocalCluster:
    """An empty cluster of the primary's version (initdb), started."""
    bindir = server_bindir(primary_url)
    if bindir is None:
        raise RuntimeError("the PostgreSQL server binaries (initdb, pg_ctl) are missing")
    reap_orphans(bindir)
    cluster = LocalCluster(bindir, _own_directory("stepwise-scratch-"), free_port())
    try:
        cluster._run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres",
                     "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        cluster.write_config({})
        cluster.start()
    except BaseException:
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise
    return cluster


def wait_for_replay(primary: Engine, replica: Engine, timeout: float = 30) -> None:
    """Return once the replica has replayed everything the primary has written so far."""
    with primary.connect() as conn:
        target = conn.execute(sa.text("SELECT CAST(pg_current_wal_lsn() AS text)")).scalar_one()
    deadline = time.monotonic() + timeout
    with replica.connect() as conn:
        while not conn.execute(sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                               {"lsn": target}).scalar():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica did not replay up to {target}")
            conn.rollback()
            time.sleep(0.01)  # waiting on another process's progress, not on the clock
