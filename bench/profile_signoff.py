"""Where a sign-off POST's time goes: statements and client CPU per request, in-process.

    .venv/bin/python -m bench.profile_signoff [--plans 16]

The same app and the same form as bench/web.py, through Starlette's TestClient in this process,
with SQLAlchemy's cursor events counting and timing every statement. Prints a table; asserts
nothing. Add `--pyinstrument` for a call tree of the requests (written to bench/results/profiles).

The timed POSTs are the first pair's; another pair signs first, untimed, so that compiled
statements, templates and workflow machines are warm (as in a server that has run a while).
`--layers` charges the process's CPU to the layer on top of a stack of wrapped entry points
(session and identity, plan read, need-to-know, engine, content freeze, hooks, commit, cookie);
what no wrapper covers is the web framework, the middleware and the test client.
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

FRAMEWORK = "framework, middleware, test client"


class Layers:
    """Exclusive CPU per layer: time goes to whichever wrapped call is innermost."""

    def __init__(self) -> None:
        self.stack = [FRAMEWORK]
        self.spent: Counter[str] = Counter()
        self.mark = time.process_time()
        self.on = False

    def _switch(self, push: str | None) -> None:
        now = time.process_time()
        if self.on:
            self.spent[self.stack[-1]] += now - self.mark
        self.mark = now
        if push is None:
            self.stack.pop()
        else:
            self.stack.append(push)

    def wrap(self, layer: str, fn: Any) -> Any:
        """fn, charging its own time (less nested layers') to the layer."""

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self._switch(layer)
            try:
                return fn(*args, **kwargs)
            finally:
                self._switch(None)

        wrapped.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapped

    def patch(self, owner: Any, name: str, layer: str) -> None:
        setattr(owner, name, self.wrap(layer, getattr(owner, name)))

    def start(self) -> None:
        self.spent.clear()
        self.mark, self.on = time.process_time(), True

    def stop(self) -> None:
        self._switch(self.stack[-1])
        self.stack.pop()
        self.on = False


def install_layers() -> Layers:
    """Wrap the sign-off POST's entry points, before the app is built (it binds some)."""
    import itsdangerous
    from sqlalchemy.orm import Session as OrmSession

    from app.auth import identity
    from app.engine import access, runtime
    from app.plans import service, views
    from app.web import deps

    layers = Layers()
    layers.patch(identity, "identify", "session row and person")
    layers.patch(deps, "holds_scope_role", "session row and person")
    layers.patch(itsdangerous.TimestampSigner, "unsign", "signed cookie")
    layers.patch(itsdangerous.TimestampSigner, "sign", "signed cookie")
    layers.patch(service, "get_plan_and_instance", "plan and instance read")
    layers.patch(access, "can_view", "need-to-know")
    layers.patch(runtime, "fire", "engine (fire)")
    for workflow, hasher in list(runtime.CONTENT_HASHERS.items()):
        runtime.CONTENT_HASHERS[workflow] = layers.wrap("content freeze and hash", hasher)
    for hooks in (runtime.STATE_HOOKS, runtime.TASK_HOOKS, runtime.FIRED_HOOKS):
        hooks[:] = [layers.wrap("hooks (plan, reminders, metrics)", h) for h in hooks]
    layers.patch(OrmSession, "commit", "commit")
    layers.patch(views, "render", "templates")
    return layers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=16)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--layers", action="store_true")
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
        layers = install_layers() if args.layers else None
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
                tokens.append(sign_in(client, number))
            warm_emp, warm_sup, warm_ids = pairs[1]
            with TestClient(app, base_url="http://testserver") as w_emp, \
                    TestClient(app, base_url="http://testserver") as w_sup:
                w_tokens = (sign_in(w_emp, warm_emp), sign_in(w_sup, warm_sup))
                for pid in warm_ids:  # untimed: warm caches
                    for client, token in ((w_emp, w_tokens[0]), (w_sup, w_tokens[1])):
                        client.post(f"/plans/{pid}/actions/sign",
                                    data={"csrf_token": token, "meaning": "agree"},
                                    follow_redirects=False)
            bare = [bare_cpu(url, 4 * len(plan_ids))]
            print(f"bare endpoint (one insert, 303): CPU {bare[0] * 1000:.2f} ms per POST")
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
                if layers:
                    layers.start()
                t0, c0 = time.perf_counter(), time.process_time()
                for pid in plan_ids:
                    r = client.post(f"/plans/{pid}/actions/sign",
                                    data={"csrf_token": token, "meaning": "agree"},
                                    follow_redirects=False)
                    assert r.status_code == 303, r.status_code
                n = len(plan_ids)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                if layers:
                    layers.stop()
                if profiler:
                    profiler.stop()
                event.remove(engine, "before_cursor_execute", before)
                event.remove(engine, "after_cursor_execute", after)
                bare.append(bare_cpu(url, 4 * n))
                print(f"\n{who} signs ({n} POSTs): {sum(count.values()) / n:.1f} statements, "
                      f"CPU {cpu / n * 1000:.1f} ms (whole process), wall {wall / n * 1000:.1f}"
                      f" ms, in execute {sum(spent.values()) / n * 1000:.1f} ms per POST; "
                      f"bare endpoint CPU {bare[-1] * 1000:.2f} ms (ratio bare/sign-off "
                      f"{bare[-1] / (cpu / n):.3f})")
                for key, c in count.most_common():
                    print(f"  {c / n:5.2f} × {spent[key] / c * 1000:6.2f} ms  {key}")
                if layers:
                    print(f"  CPU per layer (ms per POST, exclusive; sum "
                          f"{sum(layers.spent.values()) / n * 1000:.2f}):")
                    for layer, t in layers.spent.most_common():
                        print(f"    {t / n * 1000:6.2f}  {layer}")
            if profiler:
                out = RESULTS_DIR / "profiles"
                out.mkdir(parents=True, exist_ok=True)
                profiler.write_html(str(out / "signoff.html"))
                (out / "signoff.txt").write_text(profiler.output_text(unicode=False, color=False))
        engine.dispose()


def bare_cpu(url: str, n: int) -> float:
    """CPU seconds per POST of the bare endpoint (bench/bare_app.py: one insert, a 303)
    through the same kind of test client in this process: the same-run baseline."""
    import os

    import psycopg
    from fastapi.testclient import TestClient

    from bench.bare_app import create_app

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bare_event (id bigserial PRIMARY KEY,"
                     " meaning varchar(20) NOT NULL, at timestamptz NOT NULL)")
    os.environ["BENCH_BARE_DB"] = sa_url(url)
    with TestClient(create_app(), base_url="http://testserver") as client:
        for _ in range(5):  # warm
            client.post("/insert", data={"meaning": "agree"}, follow_redirects=False)
        c0 = time.process_time()
        for _ in range(n):
            client.post("/insert", data={"meaning": "agree"}, follow_redirects=False)
        return (time.process_time() - c0) / n


def sign_in(client: Any, number: str) -> str:
    """Sign in through the form; the session's CSRF token."""
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": number, "password": PASSWORD,
                                "csrf_token": token}, follow_redirects=False)
    return client.get("/api/me").json()["csrf_token"]


if __name__ == "__main__":
    main()
