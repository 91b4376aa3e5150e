"""`make load`: seed a generated bank into its own PostgreSQL database, serve it with
`stepwise serve --workers 2` with the scheduler off in the workers and `stepwise scheduler` as
its own process, run Locust headless for a bounded time, stop them, keep Locust's CSVs under
bench/results/load-<size>/ and write the per-route table into docs/benchmarks.md
(bench/load/table.py).

    .venv/bin/python -m bench.load.run --size quick --users 50 --minutes 2.5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from bench.common import PG_ADMIN_URL, PROJECT, RESULTS_DIR
from bench.load import table
from bench.servers import HOST, SmtpCounter, free_port, stop

BIN = Path(sys.executable).parent
SECRET = "load-test-secret-key-for-signed-cookies-0123456789abcdef"
AUDIT_KEYS = json.dumps({"load": "load-test-audit-key-0123456789abcdef0123456789"})


def database(size: str, fresh: bool) -> tuple[str, bool]:
    """The load database's URL (stepwise_load_<size>), recreated unless kept; whether new."""
    name = f"stepwise_load_{size}"
    admin = sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).first() is not None
        if exists and fresh:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if fresh or not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    return url.render_as_string(hide_password=False), fresh or not exists


def environment(url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The settings every process of the run shares (same database, secret and audit keys)."""
    env = dict(os.environ)
    env.update({"STEPWISE_DATABASE_URL": url, "STEPWISE_VAR_DIR": str(var_dir),
                "STEPWISE_SECRET_KEY": SECRET, "STEPWISE_AUDIT_KEYS": AUDIT_KEYS,
                "STEPWISE_AUDIT_KEY_ID": "load", "STEPWISE_ENVIRONMENT": "development",
                "STEPWISE_DEMO_MODE": "false",
                "STEPWISE_RATE_LIMIT_SIGN_IN_PER_MINUTE": "100000",
                # every simulated person comes from 127.0.0.1: per-address limits are lifted
                "STEPWISE_RATE_LIMIT_ACTION_LINK_PER_MINUTE": "100000", "PYTHONPATH": str(PROJECT)})
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], what: str) -> float:
    """Run a step, echoing it; its wall time."""
    print(f"→ {what}: {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    subprocess.run(cmd, cwd=PROJECT, env=env, check=True)
    return time.monotonic() - started


def wait_until_up(port: int, server: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    """Block until every worker has started and /healthz has answered for five seconds in a
    row (on a busy machine uvicorn restarts a worker that starts too slowly: wait that out)."""
    deadline, healthy_since = time.monotonic() + 300, None
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"stepwise serve exited with {server.returncode}")
        started = log.read_text(errors="replace").count("Application startup complete")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2):
                healthy_since = healthy_since or time.monotonic()
        except OSError:
            healthy_since = None
        if started >= workers and healthy_since and time.monotonic() - healthy_since > 5:
            return
        time.sleep(0.5)
    raise RuntimeError("stepwise serve did not come up within five minutes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="quick")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=2.5)
    parser.add_argument("--keep-database", action="store_true",
                        help="reuse an already seeded stepwise_load_<size> database")
    args = parser.parse_args()
    out = RESULTS_DIR / f"load-{args.size}"
    var_dir = PROJECT / "var" / f"load-{args.size}"
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    url, new = database(args.size, fresh=not args.keep_database)
    env = environment(url, var_dir)
    timings: dict[str, float] = {}
    if new:
        timings["seed_seconds"] = run([str(BIN / "stepwise"), "demo", "--size", args.size],
                                      env, "seed")
    manifest = var_dir / "manifest.json"
    timings["prepare_seconds"] = run([sys.executable, "-m", "bench.load.accounts",
                                      str(manifest)], env, "accounts and links")
    sink = SmtpCounter()
    sink.start()
    port = free_port()
    # As README's deployment section recommends: the web workers only serve requests, the
    # reminder and mail sweep runs as its own process (`stepwise scheduler`), so rendering and
    # sending mail never holds the interpreter a request is waiting for.
    server_env = environment(url, var_dir, STEPWISE_SMTP_HOST=HOST,
                             STEPWISE_SMTP_PORT=str(sink.port), STEPWISE_SCHEDULER_ENABLED="false",
                             STEPWISE_BASE_URL=f"http://{HOST}:{port}",
                             # as in office hours whatever the clock says: the reminders the
                             # sweep finds due are delivered during the run, not at 08:00
                             STEPWISE_QUIET_HOURS_START="00:00",
                             STEPWISE_QUIET_HOURS_END="00:00")
    server_log = (var_dir / "server.log").open("wb")
    server = subprocess.Popen([str(BIN / "stepwise"), "serve", "--host", HOST, "--port",
                               str(port), "--workers", "2"], cwd=PROJECT, env=server_env,
                              stdout=server_log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    scheduler_log = (var_dir / "scheduler.log").open("wb")
    scheduler: subprocess.Popen[bytes] | None = None
    load_before = os.getloadavg()
    try:
        wait_until_up(port, server, var_dir / "server.log", workers=2)
        # started once the workers are up: its first sweep runs beside the crowd, as the
        # in-worker one did
        scheduler = subprocess.Popen([str(BIN / "stepwise"), "scheduler"], cwd=PROJECT,
                                     env=server_env, stdout=scheduler_log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        for old in out.glob("locust_*.csv"):
            old.unlink()
        seconds = max(int(args.minutes * 60), 10)
        run([str(BIN / "locust"), "-f", str(PROJECT / "bench/load/locustfile.py"),
             "--headless", "-u", str(args.users), "-r", "1", "-t", f"{seconds}s",
             "--host", f"http://{HOST}:{port}", "--csv", str(out / "locust"), "--only-summary",
             "--stop-timeout", "10", "--exit-code-on-error", "0"],
            {**env, "LOAD_MANIFEST": str(manifest)}, "locust")
    finally:
        stop(server)
        if scheduler is not None:
            stop(scheduler)
        server_log.close()
        scheduler_log.close()
        sink.stop()
    load_after = os.getloadavg()
    sent, distinct = sink.count()
    # the page routes again, one request at a time with nothing else of ours running: the
    # service time under the figures above, and a pyinstrument profile of each
    run([sys.executable, "-m", "bench.load.profile_routes", args.size], env, "alone")
    errors = [line for log in ("server.log", "scheduler.log")
              for line in (var_dir / log).read_text(errors="replace").splitlines()
              if "Traceback" in line or " 500 " in line or '"status": 500' in line]
    meta = {"size": args.size, "users": args.users, "minutes": args.minutes,
            "database": url.rsplit("/", 1)[-1], "mail_sent": sent, "mail_distinct": distinct,
            "server_error_lines": len(errors), **timings,
            "load_average_before": [round(x, 1) for x in load_before],
            "load_average_after": [round(x, 1) for x in load_after],
            **table.database_counts(url)}
    (out / "run.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(table.update_docs(out, meta))


if __name__ == "__main__":
    main()
