"""Where a sign-off POST's time goes: statements and client CPU per request, in-process.

    .venv/bin/python -m bench.profile_signoff [--plans 16]

The same app and the same form as bench/web.py, through Starlette's TestClient in this process,
with SQLAlchemy's cursor events counting and timing every statement. Prints a table; asserts
nothing. Add `--pyinstrument` for a call tree of the requests (written to bench/results/profiles).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, sa_url, scratch_pg
from bench.web import PASSWORD, prepare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=16)
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app

    with scratch_pg("sign_prof") as url, tempfile.TemporaryDirectory() as var:
        pairs, setup_engine = prepare(url, args.plans)
        setup_engine.dispose()
        engine = make_engine(sa_url(url))
        settings = Settings(environment="test", database_url=sa_url(url), secret_key="x" * 40,
                            var_dir=Path(var), scheduler_enabled=False)
        app = create_app(settings, engine)
        count: Counter[str] = Counter()
        spent: Counter[str] = Counter()

        def before(conn: Any, *_: Any) -> None:
            conn.info["bench_t"] = time.perf_counter()

        def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            key = " ".join(statement.split()[:6])[:80]
            count[key] += 1
            spent[key] += time.perf_counter() - conn.info["bench_t"]

        emp_no, sup_no, plan_ids = pairs[0]
        with TestClient(app, base_url="http://testserver") as emp, \
                TestClient(app, base_url="http://testserver") as sup:
            tokens = []
            for client, number in ((emp, emp_no), (sup, sup_no)):
                page = client.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
                client.post("/login", data={"username": number, "password": PASSWORD,
                                            "csrf_token": token}, follow_redirects=False)
                tokens.append(client.get("/api/me").json()["csrf_token"])
            profiler = None
            if args.pyinstrument:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="disabled")
            for who, client, token in (("employee", emp, tokens[0]),
                                       ("supervisor", sup, tokens[1])):
                count.clear()
                spent.clear()
                event.listen(engine, "before_cursor_execute", before)
                event.listen(engine, "after_cursor_execute", after)
                if profiler:
                    profiler.start()
                t0, c0 = time.perf_counter(), time.process_time()
                for pid in plan_ids:
                    r = client.post(f"/plans/{pid}/actions/sign",
                                    data={"csrf_token": token, "meaning": "agree"},
                                    follow_redirects=False)
                    assert r.status_code == 303, r.status_code
                n = len(plan_ids)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                if profiler:
                    profiler.stop()
                event.remove(engine, "before_cursor_execute", before)
                event.remove(engine, "after_cursor_execute", after)
                print(f"\n{who} signs ({n} POSTs): {sum(count.values()) / n:.1f} statements, "
                      f"CPU {cpu / n * 1000:.1f} ms (whole process), wall {wall / n * 1000:.1f}"
                      f" ms, in execute {sum(spent.values()) / n * 1000:.1f} ms per POST")
                for key, c in count.most_common():
                    print(f"  {c / n:5.2f} × {spent[key] / c * 1000:6.2f} ms  {key}")
            if profiler:
                out = RESULTS_DIR / "profiles"
                out.mkdir(parents=True, exist_ok=True)
                profiler.write_html(str(out / "signoff.html"))
                (out / "signoff.txt").write_text(profiler.output_text(unicode=False, color=False))
        engine.dispose()


if __name__ == "__main__":
    main()
