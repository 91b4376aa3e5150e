"""Each load-test route timed alone (one person, nothing else from us running) on the
load database, and the slowest profiled with pyinstrument: the service time under the load
figures, and where it goes. Run after `make load` with the run's environment:

    .venv/bin/python -m bench.load.profile_routes quick [--rounds N]

Beside the wall time (which on a shared machine moves with other people's load) each route
gets the process CPU time and the SQL statements of one request: the figures a change to the
route's code moves.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from typing import Any

from bench.common import PROJECT, RESULTS_DIR
from bench.load.run import environment

ROUNDS = 5


def main(size: str, rounds: int = ROUNDS) -> None:
    """Time and profile every page route of the load test, alone (the server is stopped)."""
    import os

    import sqlalchemy as sa

    var_dir = PROJECT / "var" / f"load-{size}"
    url = f"postgresql://postgres@127.0.0.1:5432/stepwise_load_{size}"
    os.environ.update(environment(url, var_dir, STEPWISE_SCHEDULER_ENABLED="false"))
    from fastapi.testclient import TestClient
    from pyinstrument import Profiler

    from app.main import create_app

    manifest = json.loads((var_dir / "manifest.json").read_text(encoding="utf-8"))
    employee = next(e for e in manifest["employees"] if e["plans"])
    people = {"employee": employee["no"], "supervisor": manifest["supervisors"][0]["no"],
              "hr (head office)": manifest["hr"][0], "hr (branch)": manifest["hr"][-1]}
    routes: list[tuple[str, str, str]] = [
        ("employee", "GET /tasks (My work)", "/tasks"),
        ("employee", "GET /plans/[id]", f"/plans/{employee['plans'][0]}"),
        ("supervisor", "GET /tasks (My work)", "/tasks"),
        ("supervisor", "GET /plans/[id]", f"/plans/{manifest['supervisors'][0]['plans'][0]}"),
    ] + [(who, name, path) for who in ("hr (head office)", "hr (branch)")
         for name, path in (("GET /reports/dashboard", "/reports/dashboard"),
                            ("GET /reports/overdue", "/reports/overdue"),
                            ("GET /reports/overdue.xlsx (export)", "/reports/overdue.xlsx"),
                            ("GET /reports/plans.csv (export)", "/reports/plans.csv"))]
    _run_endpoints_inline()
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    app = Profiled(create_app())
    out = RESULTS_DIR / f"load-{size}" / "profiles"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):  # this run's profiles only
        old.unlink()
    results: list[dict[str, Any]] = []
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for who, name, path in routes:
            _sign_in(client, people[who])
            client.get(path)  # warm: templates compiled, caches filled
            samples, cpu = [], []
            statements[0] = 0
            for _ in range(rounds):
                started, cpu_started = time.perf_counter(), time.process_time()
                status = client.get(path).status_code
                samples.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            queries = statements[0] / rounds
            profiler = app.profiler = Profiler(interval=0.0005, async_mode="enabled")
            client.get(path)
            app.profiler = None
            slug = re.sub(r"[^a-z0-9]+", "-", f"{who} {name}".lower()).strip("-")
            (out / f"{slug}.txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False),
                encoding="utf-8")
            results.append({"who": who, "route": name, "status": status,
                            "median_ms": round(statistics.median(samples), 1),
                            "min_ms": round(min(samples), 1),
                            "cpu_median_ms": round(statistics.median(cpu), 1),
                            "queries": round(queries, 1), "profile": f"profiles/{slug}.txt"})
            print(f"{who:18} {name:40} {status} median {statistics.median(samples):7.1f} ms"
                  f"  cpu {statistics.median(cpu):7.1f} ms  {queries:5.1f} queries", flush=True)
        # sign-in: the password hash decides (the first sign-in may redo an old hash: untimed)
        samples, cpu = [], []
        statements[0] = 0
        for round_ in range(rounds + 1):
            token = _csrf(client)
            started, cpu_started = time.perf_counter(), time.process_time()
            status = _post_sign_in(client, people["employee"], token)
            if round_:
                samples.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            else:
                statements[0] = 0
        queries = statements[0] / rounds
        results.append({"who": "employee", "route": "POST /login", "status": status,
                        "median_ms": round(statistics.median(samples), 1),
                        "min_ms": round(min(samples), 1),
                        "cpu_median_ms": round(statistics.median(cpu), 1),
                        "queries": round(queries, 1), "profile": None})
        print(f"{'employee':18} {'POST /login':40} {status} median "
              f"{statistics.median(samples):7.1f} ms  cpu {statistics.median(cpu):7.1f} ms  "
              f"{queries:5.1f} queries", flush=True)
    (RESULTS_DIR / f"load-{size}" / "solo.json").write_text(json.dumps(results, indent=1),
                                                            encoding="utf-8")


class Profiled:
    """The app, with one request profiled when a profiler is set (on the loop's thread)."""

    def __init__(self, app: Any) -> None:
        self.app, self.profiler = app, None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        profiler = self.profiler if scope["type"] == "http" else None
        if profiler is None:
            await self.app(scope, receive, send)
            return
        profiler.start()
        try:
            await self.app(scope, receive, send)
        finally:
            profiler.stop()


def _run_endpoints_inline() -> None:
    """Run sync endpoints and dependencies on the event loop's thread, so the profiler (one
    thread only) sees them; timings stay those of a request served alone."""
    import fastapi.dependencies.utils
    import fastapi.routing

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[assignment]


def _csrf(client: Any) -> str:
    """A fresh session's CSRF token from the sign-in page."""
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF token on the sign-in page"
    return token.group(1)


def _post_sign_in(client: Any, number: str, token: str) -> int:
    response = client.post("/login", data={"username": number, "password": "demo",
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return response.status_code


def _sign_in(client: Any, number: str) -> None:
    _post_sign_in(client, number, _csrf(client))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", default="quick")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="requests timed per route")
    args = parser.parse_args()
    main(args.size, args.rounds)
