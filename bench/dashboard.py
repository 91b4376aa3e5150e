"""Item 5: the dashboard's overdue-by-unit figure at 100,000 and 1,000,000 plans, p95 over
repeated requests, beside the raw SQL aggregate it needs (the same grouping through psycopg).

Measured: `app.reports.service.overdue_by_unit` for head-office HR (the whole bank, rolled up
into its branches with aging buckets): its ORM query plus the Python roll-up. The baseline runs
the same GROUP BY as plain SQL and only fetches the rows.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    WORKFLOWS,
    Figure,
    build_org,
    create_schema,
    log,
    now_s,
    pct,
    scaled,
    scratch_pg,
    write_part,
)

REPEAT = 25
RAW_SQL = """
SELECT i.org_unit_id, t.due_at, count(*)
FROM task t JOIN workflow_instance i ON i.id = t.instance_id
WHERE t.status = 'open' AND t.due_at IS NOT NULL AND t.due_at < %(now)s
  AND i.org_unit_id = ANY(%(units)s)
GROUP BY i.org_unit_id, t.due_at
"""


def populate(url: str, org: Any, definition_id: int, n: int, now: datetime) -> None:
    """n plan instances, each with two open tasks due at the end of a day in ±30 days."""
    import psycopg

    from app.engine.calendar import end_of_day, local_date

    rng = random.Random(5)
    days = [end_of_day(local_date(now) + timedelta(days=d)) for d in range(-30, 31)]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM workflow_instance")
        base = cur.fetchone()[0]
        stamp = now.isoformat()
        for start in range(0, n, 100_000):
            inst, task = io.StringIO(), io.StringIO()
            for k in range(start, min(n, start + 100_000)):
                iid = base + 1 + k
                emp = org.employees[k % len(org.employees)]
                unit = org.sub_branches[rng.randrange(len(org.sub_branches))]
                inst.write(f"{iid}\t{definition_id}\timprovement_plan\tgap_identified\t2\tplan\t"
                           f"{emp}\t{emp}\t{unit}\t{{\"cycle\": 1}}\t{stamp}\t{stamp}\n")
                due = days[rng.randrange(len(days))].isoformat()
                for expr in ("subject", "subject.supervisor"):
                    task.write(f"{iid}\tgap_identified\tact\t{emp}\t{expr}\t\topen\t{due}\t"
                               f"{stamp}\n")
            inst.seek(0)
            task.seek(0)
            with cur.copy("COPY workflow_instance (id, definition_id, workflow, state, version,"
                          " title, subject_id, initiator_id, org_unit_id, context, created_at,"
                          " updated_at) FROM STDIN") as copy:
                copy.write(inst.read())
            with cur.copy("COPY task (instance_id, state, kind, assignee_id, actor_expr, ref,"
                          " status, due_at, created_at) FROM STDIN") as copy:
                copy.write(task.read())
            conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE task")
        cur.execute("VACUUM ANALYZE workflow_instance")


def measure(url: str, engine: Any, hr_id: int, now: datetime) -> dict[str, Any]:
    import psycopg
    from sqlmodel import Session

    from app.engine import calendar
    from app.org.models import Person
    from app.reports import service
    from app.reports.aging import Aging

    page, raw = [], []
    with Session(engine) as session:
        viewer = session.get(Person, hr_id)
        where = service.area(session, viewer=viewer)
        units = where.unit_ids
    with psycopg.connect(url) as conn:
        for r in range(REPEAT + 2):  # two warm-ups each
            t0 = now_s()
            with Session(engine) as session:
                aging = Aging(calendar.load(session), calendar.local_date(now))
                lines, totals = service.overdue_by_unit(session, where, now, aging)
            t1 = now_s()
            rows = conn.execute(RAW_SQL, {"now": now, "units": units}).fetchall()
            conn.commit()
            t2 = now_s()
            if r >= 2:
                page.append(t1 - t0)
                raw.append(t2 - t1)
    overdue = sum(line.total for line in lines)
    raw_total = sum(row[2] for row in rows)
    return {"page_ms": [round(x * 1000, 3) for x in page],
            "raw_ms": [round(x * 1000, 3) for x in raw],
            "page_p95": pct(page, 95) * 1000, "raw_p95": pct(raw, 95) * 1000,
            "overdue": overdue, "raw_overdue": raw_total, "branches": len(lines)}


def main() -> None:
    from sqlmodel import Session

    from app import clock
    from app.engine import runtime
    from app.engine.registry import Registry
    from app.org.models import Person, RoleAssignment

    figures: list[Figure] = []
    extra: dict[str, Any] = {}
    with scratch_pg("dash") as url:
        engine = create_schema(url)
        clock.set_timezone("Asia/Shanghai")
        registry = Registry(WORKFLOWS)
        registry.load()
        runtime.set_registry(registry)
        with Session(engine) as session:
            org = build_org(session, branches=12, subs_per_branch=10, staff_per_sub=10)
            hr = Person(employee_no="HRHO", name="总行人事", org_unit_id=org.head_office,
                        post="人力资源部")
            session.add(hr)
            session.flush()
            session.add(RoleAssignment(person_id=hr.id, kind="role", name="hr",
                                       org_unit_id=org.head_office))
            registry.sync(session)
            session.commit()
            hr_id, definition_id = hr.id, registry.current_ids["improvement_plan"]
        now = datetime.now(UTC)
        loaded = 0
        for full in (100_000, 1_000_000):
            n = scaled(full, 2_000)
            t0 = now_s()
            populate(url, org, definition_id, n - loaded, now)
            loaded = n
            log(f"dashboard: {n:,} plans loaded in {now_s() - t0:.0f} s")
            m = measure(url, engine, hr_id, now)
            extra[str(n)] = m
            ratio = m["page_p95"] / m["raw_p95"]
            figures.append(Figure(
                "5", f"Dashboard overdue-by-unit p95, {n:,} plans", m["page_p95"], "ms",
                m["raw_p95"], "raw SQL aggregate p95 (psycopg, same GROUP BY)",
                m["raw_p95"] / m["page_p95"], "≤ 2× (ratio ≥ 0.5)", ratio <= 2,
                f"{ratio:.2f}× the raw aggregate; {m['overdue']:,} overdue tasks in "
                f"{m['branches']} branches (raw counts {m['raw_overdue']:,})"))
            log(f"dashboard {n:,}: p95 {m['page_p95']:.1f} ms vs raw {m['raw_p95']:.1f} ms")
        engine.dispose()
    write_part("dashboard", figures, extra)


if __name__ == "__main__":
    main()
