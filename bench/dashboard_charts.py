"""The HR dashboard with its charts drawn on every request, and with the drawn charts kept.

    .venv/bin/python -m bench.dashboard_charts [--repeat 30] [--size quick] [--person b01hr1]

Seeds the demo bank (or, with --size, the generated bank `make load` uses) into a scratch SQLite
file, signs head-office HR in through the form and
times GET /reports/dashboard in-process (Starlette's TestClient), in Chinese and English:
first with the chart cache emptied before each request (every picture drawn, as before issue 21
item 5), then with it kept (the same figures: no picture drawn). Prints wall and CPU per
request and how many pictures were drawn; asserts nothing (DESIGN.md rule 10).
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel

from app import clock
from app.reports import charts

SEEDED_AT = datetime(2026, 3, 2, 9, 0)  # the demo bank's "today"
LATER = datetime(2026, 3, 16, 10, 0)  # two weeks on: its cases are overdue
PASSWORD = "demo"


def seed(url: str, workflows_dir: Path, size: str | None) -> None:
    """The demo bank, as `stepwise demo` seeds it, or a generated bank of a named size."""
    from app.db import make_engine
    from app.demo import seed_demo
    from app.engine.registry import Registry
    from app.models import load_all_models

    load_all_models()
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    registry = Registry(workflows_dir)
    registry.load()
    if size is not None:
        from app.demo_scale import seed_scaled

        seed_scaled(engine, registry, size)
        engine.dispose()
        return
    clock.freeze(SEEDED_AT)
    with Session(engine) as session:
        seed_demo(session, registry)
        session.commit()
    engine.dispose()


def sign_in(client: Any, number: str) -> None:
    """Sign in through the form."""
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": number, "password": PASSWORD,
                                "csrf_token": token}, follow_redirects=False)


def drawn() -> int:
    """Pictures drawn so far (cache misses of the three chart kinds)."""
    return sum(f.cache_info().misses for f in
               (charts._bar_chart, charts._line_chart, charts._pie_chart))


def timed(client: Any, path: str, repeat: int, *, cold: bool) -> dict[str, float]:
    """Median and fastest wall/CPU ms of `repeat` GETs, and pictures drawn per request."""
    walls, cpus = [], []
    before = drawn()
    for _ in range(repeat):
        if cold:
            charts.clear_cache()
        w0, c0 = time.perf_counter(), time.process_time()
        response = client.get(path)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200, response.status_code
    if cold:  # clear_cache() also resets the counters: count the last request's pictures
        per_request = drawn()
    else:
        per_request = (drawn() - before) / repeat
    return {"wall_median": statistics.median(walls), "wall_min": min(walls),
            "cpu_median": statistics.median(cpus), "drawn": per_request}


def main() -> None:
    """Seed, sign in, time both ways, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--person", default="hr01", help="employee no. of an HR person")
    parser.add_argument("--size", default=None, help="a generated bank's size (quick, ...)")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    with tempfile.TemporaryDirectory() as root:
        url = f"sqlite:///{Path(root) / 'stepwise.db'}"
        settings = Settings(environment="test", database_url=url, var_dir=Path(root) / "var",
                            secret_key="bench-secret-key-for-signed-cookies-only",
                            demo_mode=True, scheduler_enabled=False, mail_disabled=True,
                            rate_limit_sign_in_per_minute=10_000)
        seed(url, settings.workflows_dir, args.size)
        if args.size is None:
            clock.freeze(LATER)
        try:
            with TestClient(create_app(settings), base_url="http://testserver") as client:
                logging.getLogger("stepwise").setLevel(logging.WARNING)  # one line a request
                sign_in(client, args.person)
                bank = f"the {args.size} bank" if args.size else "the demo bank"
                print(f"GET /reports/dashboard as {args.person} on {bank}, {args.repeat} "
                      "requests each, SQLite, in-process")
                print(f"{'language':<8} {'charts':<22} {'wall median':>12} {'wall min':>9} "
                      f"{'CPU median':>11} {'drawn/request':>14}")
                for lang in ("zh_CN", "en"):
                    path = f"/reports/dashboard?lang={lang}"
                    client.get(path)  # templates, statements, workflow files warm
                    for cold, label in ((True, "drawn every request"), (False, "kept (cache)")):
                        r = timed(client, path, args.repeat, cold=cold)
                        print(f"{lang:<8} {label:<22} {r['wall_median']:>9.1f} ms "
                              f"{r['wall_min']:>6.1f} ms {r['cpu_median']:>8.1f} ms "
                              f"{r['drawn']:>14.1f}")
        finally:
            clock.reset()


if __name__ == "__main__":
    main()
