"""The HR dashboard and report lists at 100,000 plans on PostgreSQL, beside the raw SQL they need.

    .venv/bin/python -m bench.bench_dashboard [--plans 100000] [--repeat 15]

Builds a scratch database (COPY, a few seconds), then times each report query as the app runs
it (SQLAlchemy, Python roll-up and aging on the Chinese working-day calendar) and the plain SQL
aggregate or page that answers the same question, and prints both with their ratio. It asserts
nothing: performance is measured, not asserted (DESIGN.md rule 10). The scratch database is
dropped at the end. BENCH_PG_URL (or STEPWISE_TEST_PG_URL) names the server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from app import clock
from app.db import make_engine
from app.engine import calendar
from app.models import load_all_models
from app.org.models import Person
from app.reports import lists, service
from app.reports.aging import Aging

ADMIN_URL = os.environ.get("BENCH_PG_URL") or os.environ.get(
    "STEPWISE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
OPEN_STATES = ["draft", "gap_identified", "plan_proposed", "in_progress", "under_review",
               "hr_decision"]
CLOSED_STATES = ["closed", "next_cycle", "closed_by_hr", "cancelled"]
HR_DECISIONS = ["rotation", "change_of_post", "replacement"]


def psycopg_url(url: str) -> str:
    """A libpq URL (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def copy_rows(conn: psycopg.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """COPY rows into a table; columns a row leaves out take their model default (or NULL)."""
    columns = list(table.columns)
    defaults = {}
    for column in columns:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            defaults[column.name] = default.arg
        elif default is not None and getattr(default, "is_callable", False):
            defaults[column.name] = None if column.nullable else NOW
        else:
            defaults[column.name] = None
    names = ", ".join(f'"{c.name}"' for c in columns)
    count = 0
    with conn.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = []
            for column in columns:
                value = row.get(column.name, defaults[column.name])
                if isinstance(value, dict):
                    value = json.dumps(value, ensure_ascii=False)
                values.append(value)
            copy.write_row(values)
            count += 1
    return count


def build(url: str, plans: int, seed: int = 7) -> dict[str, int]:
    """Head office → 10 branches → 10 sub-branches each; `plans` employees with one plan each."""
    rnd = random.Random(seed)
    tables = SQLModel.metadata.tables
    ids = {"unit": 0, "person": 0}
    units: list[dict[str, Any]] = []

    def unit(code: str, name: str, kind: str, parent: dict[str, Any] | None) -> dict[str, Any]:
        ids["unit"] += 1
        row = {"id": ids["unit"], "code": code, "name": name, "name_en": code, "kind": kind,
               "parent_id": parent["id"] if parent else None,
               "path": (parent["path"] if parent else "/") + f"{ids['unit']}/",
               "created_at": NOW}
        units.append(row)
        return row

    head = unit("HO", "总行", "head_office", None)
    branches = [unit(f"B{b}", f"第{b}分行", "branch", head) for b in range(10)]
    subs = [unit(f"B{b}S{s}", f"第{b}分行第{s}支行", "sub_branch", branch)
            for b, branch in enumerate(branches) for s in range(10)]
    people: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []

    def person(unit_row: dict[str, Any], name: str, supervisor: int | None = None) -> int:
        ids["person"] += 1
        people.append({"id": ids["person"], "employee_no": f"P{ids['person']:07d}",
                       "name": name, "name_en": name, "email": "", "locale": "zh_CN",
                       "org_unit_id": unit_row["id"], "post": "", "grade": "",
                       "supervisor_id": supervisor, "is_admin": False, "active": True,
                       "created_at": NOW})
        return ids["person"]

    hr_head = person(head, "总行人事")
    roles.append({"id": 1, "person_id": hr_head, "kind": "role", "name": "hr",
                  "org_unit_id": head["id"], "created_at": NOW})
    hr_branch = person(branches[0], "分行人事")
    roles.append({"id": 2, "person_id": hr_branch, "kind": "role", "name": "hr",
                  "org_unit_id": branches[0]["id"], "created_at": NOW})
    for i, branch in enumerate(branches[1:], start=3):
        roles.append({"id": i, "person_id": person(branch, "人事"), "kind": "role",
                      "name": "hr", "org_unit_id": branch["id"], "created_at": NOW})
    managers = {s["id"]: person(s, f"{s['name']}行长") for s in subs}
    employees = []
    for n in range(plans):
        sub = subs[n % len(subs)]
        employees.append((person(sub, f"员工{n}", managers[sub["id"]]), sub))

    instances, plan_rows, tasks = [], [], []
    task_id = 0
    for n, (employee_id, sub) in enumerate(employees, start=1):
        closed = rnd.random() < 0.4
        state = rnd.choice(CLOSED_STATES if closed else OPEN_STATES)
        cycle = rnd.choices([1, 2, 3, 4], weights=[70, 20, 8, 2])[0]
        created = NOW - timedelta(days=rnd.randint(1, 400))
        context = {"cycle": cycle, "plan_id": n}
        if state == "closed_by_hr":
            context["last_hr_decision"] = rnd.choice(HR_DECISIONS)
        updated = created + timedelta(days=rnd.randint(0, 30))
        instances.append({"id": n, "definition_id": 1, "workflow": "improvement_plan",
                          "state": state, "version": 1, "title": f"改进计划{n}",
                          "subject_id": employee_id, "initiator_id": employee_id,
                          "org_unit_id": sub["id"], "context": context, "created_at": created,
                          "updated_at": min(updated, NOW),
                          "closed_at": min(updated, NOW) if closed else None})
        plan_rows.append({"id": n, "instance_id": n, "employee_id": employee_id,
                          "supervisor_id": managers[sub["id"]], "org_unit_id": sub["id"],
                          "cycle": cycle, "title": f"改进计划{n}", "created_at": created,
                          "updated_at": min(updated, NOW)})
        for _ in range(0 if closed else rnd.choice([1, 1, 2])):
            task_id += 1
            due = NOW + timedelta(days=rnd.randint(-40, 20))
            who = rnd.random()
            task = {"id": task_id, "instance_id": n, "state": state, "kind": "act",
                    "actor_expr": "subject", "status": "open", "due_at": due,
                    "created_at": created}
            if who < 0.6:
                task["assignee_id"] = employee_id
            elif who < 0.9:
                task.update(assignee_id=managers[sub["id"]], actor_expr="subject.supervisor")
            else:
                branch_id = int(sub["path"].strip("/").split("/")[1])
                task.update(group_kind="role", group_name="hr", org_unit_id=branch_id,
                            actor_expr="role:hr@subject.branch")
            tasks.append(task)
        if closed:  # the task history of a closed plan: done, sometimes late
            task_id += 1
            tasks.append({"id": task_id, "instance_id": n, "state": "under_review",
                          "kind": "act", "actor_expr": "subject.supervisor",
                          "assignee_id": managers[sub["id"]], "status": "done",
                          "due_at": created + timedelta(days=10), "created_at": created,
                          "closed_at": created + timedelta(days=rnd.randint(5, 15))})

    with psycopg.connect(psycopg_url(url)) as conn:
        copy_rows(conn, tables["workflow_definition"], [{
            "id": 1, "name": "improvement_plan", "version": 1, "content_hash": "bench",
            "source": "", "created_at": NOW}])
        copy_rows(conn, tables["org_unit"], units)
        copy_rows(conn, tables["person"], people)
        copy_rows(conn, tables["role_assignment"], roles)
        copy_rows(conn, tables["workflow_instance"], instances)
        copy_rows(conn, tables["improvement_plan"], plan_rows)
        copy_rows(conn, tables["task"], tasks)
        for table in ("org_unit", "person", "role_assignment", "workflow_instance",
                      "improvement_plan", "task", "workflow_definition"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return {"units": len(units), "people": len(people), "plans": len(plan_rows),
            "tasks": len(tasks), "hr_head": hr_head, "hr_branch": hr_branch}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and worst of `repeat` runs after one warm-up, in milliseconds."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


RAW = {
    "overdue by unit": """
        SELECT wi.org_unit_id, count(*) FROM task t JOIN workflow_instance wi
          ON wi.id = t.instance_id
        WHERE t.status = 'open' AND t.due_at < :now AND {wi_scope}
        GROUP BY wi.org_unit_id""",
    "stuck with whom": """
        SELECT t.assignee_id, t.group_kind, t.group_name, t.org_unit_id, count(*) AS n,
               min(t.due_at) AS oldest
        FROM task t JOIN workflow_instance wi ON wi.id = t.instance_id
        WHERE t.status = 'open' AND t.due_at < :now AND {wi_scope}
        GROUP BY 1, 2, 3, 4 ORDER BY n DESC, oldest LIMIT 16""",
    "plans by cycle": """
        SELECT p.cycle, count(*) FROM improvement_plan p JOIN workflow_instance wi
          ON wi.id = p.instance_id
        WHERE wi.closed_at IS NULL AND {p_scope} GROUP BY p.cycle""",
    "plan outcomes": """
        SELECT state, context->>'last_hr_decision', count(*) FROM workflow_instance
        WHERE workflow = 'improvement_plan' AND closed_at IS NOT NULL
          AND {i_scope} GROUP BY 1, 2""",
    "plan list, page 1": """
        SELECT p.id, p.title, p.cycle, pe.name, u.name, wi.state, wi.updated_at
        FROM improvement_plan p JOIN workflow_instance wi ON wi.id = p.instance_id
        JOIN person pe ON pe.id = p.employee_id JOIN org_unit u ON u.id = p.org_unit_id
        WHERE {p_scope} ORDER BY p.id DESC LIMIT 51""",
    "plan list by cycle, page 1": """
        SELECT p.id, p.title, p.cycle, pe.name, u.name, wi.state, wi.updated_at
        FROM improvement_plan p JOIN workflow_instance wi ON wi.id = p.instance_id
        JOIN person pe ON pe.id = p.employee_id JOIN org_unit u ON u.id = p.org_unit_id
        WHERE {p_scope} ORDER BY p.cycle DESC, p.id DESC LIMIT 51""",
    "overdue list, page 1": """
        SELECT t.id, t.due_at, wi.title, pe.name FROM task t
        JOIN workflow_instance wi ON wi.id = t.instance_id
        JOIN person pe ON pe.id = wi.subject_id
        WHERE t.status = 'open' AND t.due_at < :now AND {wi_scope}
        ORDER BY t.due_at, t.id LIMIT 51""",
}


COUNTS = {
    "plan list": "SELECT count(*) FROM improvement_plan p WHERE {p_scope}",
    "plan list by cycle": "SELECT count(*) FROM improvement_plan p WHERE {p_scope}",
    "overdue list": """SELECT count(*) FROM task t JOIN workflow_instance wi
                       ON wi.id = t.instance_id
                       WHERE t.status = 'open' AND t.due_at < :now AND {wi_scope}""",
}


def measure(url: str, hr_id: int, label: str, repeat: int) -> list[tuple[str, float, float,
                                                                          float, float]]:
    """(query, app median, app worst, raw median, raw worst) for one HR person's scope."""
    engine = make_engine(url)
    out = []
    with Session(engine) as db:
        viewer = db.get(Person, hr_id)
        where = service.area(db, viewer=viewer)
        units = where.unit_ids
        aging = Aging(calendar.load(db), calendar.local_date(NOW))
        app_calls: dict[str, Callable[[], Any]] = {
            "overdue by unit": lambda: service.overdue_by_unit(db, where, NOW, aging),
            "stuck with whom": lambda: service.waiting_on(db, where, NOW),
            "plans by cycle": lambda: service.plans_by_cycle(db, where),
            "plan outcomes": lambda: service.plan_outcomes(db, where),
            "plan list, page 1": lambda: lists.plan_page(
                db, viewer=viewer, filters=lists.PlanFilters()),
            "plan list by cycle, page 1": lambda: lists.plan_page(
                db, viewer=viewer, filters=lists.PlanFilters(sort="cycle")),
            "overdue list, page 1": lambda: lists.task_page(
                db, viewer=viewer, filters=lists.TaskFilters(), now=NOW),
        }
        scope = {"wi_scope": "wi.org_unit_id = ANY(:units)",
                 "p_scope": "p.org_unit_id = ANY(:units)", "i_scope": "org_unit_id = ANY(:units)"}
        if where.whole_tree:  # the app drops the filter for the whole organisation; so does SQL
            scope = dict.fromkeys(scope, "TRUE")
        params = {"now": NOW, "units": units}
        for name, call in app_calls.items():
            sql = sa.text(RAW[name].format(**scope))
            queries = [sql]
            if "list" in name:  # a list page shows its total too: the raw side counts as well
                queries.append(sa.text(COUNTS[name.split(",")[0]].format(**scope)))
            raw = timed(lambda queries=queries: [db.execute(q, params).all() for q in queries],
                        repeat)
            app = timed(call, repeat)
            out.append((f"{label}: {name}", app[0], app[1], raw[0], raw[1]))
        whole = timed(lambda: service.dashboard(db, viewer=viewer, now=NOW), repeat)
        out.append((f"{label}: whole dashboard (all panels)", whole[0], whole[1], float("nan"),
                    float("nan")))
        page = lists.plan_page(db, viewer=viewer, filters=lists.PlanFilters(sort="cycle"))[1]
        cursor = page.next_cursor
        for _ in range(200):  # walk 200 pages deep by keyset: the 201st costs what the 1st did
            page = lists.plan_page(db, viewer=viewer, filters=lists.PlanFilters(sort="cycle"),
                                   cursor=cursor)[1]
            cursor = page.next_cursor
        deep = timed(lambda: lists.plan_page(db, viewer=viewer,
                                             filters=lists.PlanFilters(sort="cycle"),
                                             cursor=cursor), repeat)
        offset = sa.text(RAW["plan list by cycle, page 1"].format(**scope).replace(
            "LIMIT 51", "LIMIT 51 OFFSET 10050"))
        count = sa.text(COUNTS["plan list by cycle"].format(**scope))
        raw_deep = timed(lambda: [db.execute(q, params).all() for q in (offset, count)], repeat)
        out.append((f"{label}: plan list by cycle, page 202 (keyset vs OFFSET)", deep[0],
                    deep[1], raw_deep[0], raw_deep[1]))
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    load_all_models()
    clock.freeze(NOW)
    name = f"stepwise_bench_dash_{uuid.uuid4().hex[:8]}"
    admin = psycopg_url(ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)) \
        .set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        start = time.perf_counter()
        sizes = build(url, args.plans)
        print(f"built {sizes['plans']:,} plans, {sizes['tasks']:,} tasks, "
              f"{sizes['people']:,} people, {sizes['units']} units "
              f"in {time.perf_counter() - start:.1f} s")
        rows = measure(url, sizes["hr_head"], "head office HR", args.repeat)
        rows += measure(url, sizes["hr_branch"], "branch HR", args.repeat)
        width = max(len(r[0]) for r in rows)
        print(f"{'query':<{width}}  {'app ms (median/max)':>20}  {'raw ms (median/max)':>20}"
              f"  {'ratio':>6}")
        for query, app_med, app_max, raw_med, raw_max in rows:
            ratio = app_med / raw_med if raw_med == raw_med and raw_med > 0 else float("nan")
            raw = f"{raw_med:8.1f} / {raw_max:8.1f}" if raw_med == raw_med else f"{'—':>19}"
            print(f"{query:<{width}}  {app_med:8.1f} / {app_max:8.1f}  {raw}  {ratio:6.2f}")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clock.reset()


if __name__ == "__main__":
    main()
