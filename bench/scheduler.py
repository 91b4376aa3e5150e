"""Items 4 and 7: the scheduler at a national bank's scale, and several nodes on one database.

4. 1,000,000 pending timers of which 10,000 are due: the due-claim query exactly as the sweep
   issues it (EXPLAIN must show the (status, due_at) index), and the delivery of those
   reminders to a local SMTP server by the real sweep, beside a plain smtplib loop sending the
   same messages (same subjects and bodies) to the same server.
7. 2 web workers + 2 scheduler processes on one PostgreSQL, sign-off POSTs running while the
   schedulers deliver: throughput beside 1 + 1, and every message exactly once at the sink.
"""

from __future__ import annotations

import io
import os
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    PROJECT,
    WORKFLOWS,
    Figure,
    build_org,
    create_schema,
    install_engine,
    log,
    median,
    now_s,
    scaled,
    scratch_pg,
    write_part,
)
from bench.servers import SmtpCounter, free_port, start_uvicorn, stepwise_env, stop

TIMER_KINDS = [("before_due", 1), ("on_due", 0), ("overdue", 1), ("escalation", 0)]


def populate_timers(url: str, org: Any, definition_id: int, total: int, due: int,
                    now: datetime) -> None:
    """total timers, 4 per open task, one task per instance; `due` tasks have their
    before-due reminder due an hour ago, every other timer falls in the next 60 days."""
    import psycopg

    tasks = total // 4
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM workflow_instance")
        base_i = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM task")
        base_t = cur.fetchone()[0]
        inst, task, timer = io.StringIO(), io.StringIO(), io.StringIO()
        stamp = now.isoformat()
        for n in range(tasks):
            iid, tid = base_i + 1 + n, base_t + 1 + n
            emp = org.employees[n % len(org.employees)]
            unit = org.sub_branches[n % len(org.sub_branches)]
            inst.write(f"{iid}\t{definition_id}\timprovement_plan\tdraft\t1\tplan\t{emp}\t"
                       f"{emp}\t{unit}\t{{\"cycle\": 1}}\t{stamp}\t{stamp}\n")
            is_due = n < due
            task_due = now + timedelta(days=1 if is_due else 10 + n % 50)
            task.write(f"{tid}\t{iid}\tdraft\tact\t{emp}\tsubject\t\topen\t"
                       f"{task_due.isoformat()}\t{stamp}\n")
            for j, (kind, level) in enumerate(TIMER_KINDS):
                if is_due and j == 0:
                    at = now - timedelta(hours=1)
                else:
                    at = now + timedelta(days=1 + (n * 7 + j * 13) % 60, minutes=j)
                timer.write(f"task:{tid}:{kind}:{level}\t{tid}\t{iid}\t{kind}\t{level}\t"
                            f"{at.isoformat()}\tpending\t{stamp}\n")
        for name, buf, cols in (
            ("workflow_instance", inst, "id, definition_id, workflow, state, version, title,"
             " subject_id, initiator_id, org_unit_id, context, created_at, updated_at"),
            ("task", task, "id, instance_id, state, kind, assignee_id, actor_expr, ref, status,"
             " due_at, created_at"),
            ("reminder_timer", timer, "key, task_id, instance_id, kind, level, due_at, status,"
             " created_at"),
        ):
            buf.seek(0)
            with cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)
        for table in ("workflow_instance", "task"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE reminder_timer")
        cur.execute("VACUUM ANALYZE task")
        cur.execute("VACUUM ANALYZE workflow_instance")


def claim_sql(limit: int) -> str:
    """The sweep's due-claim query, compiled from the app's own statement."""
    from sqlalchemy.dialects import postgresql
    from sqlmodel import select

    from app.reminders.models import ReminderTimer, TimerStatus
    from app.rows import skip_locked

    now = datetime(2000, 1, 1, tzinfo=UTC)  # placeholder, bound below
    query = skip_locked(
        select(ReminderTimer)
        .where(ReminderTimer.status == TimerStatus.pending, ReminderTimer.due_at <= now)
        .order_by(ReminderTimer.due_at, ReminderTimer.id)
        .limit(limit)
    )
    compiled = query.compile(dialect=postgresql.dialect())
    sql = str(compiled)
    params = dict(compiled.params)
    for key, value in params.items():
        if isinstance(value, datetime):
            sql = sql.replace(f"%({key})s", "%(now)s")
        else:
            sql = sql.replace(f"%({key})s", repr(value) if not isinstance(value, str)
                              else f"'{value}'")
    return sql


def time_claim(url: str, limit: int, now: datetime, repeat: int = 9) -> dict[str, Any]:
    """Run the claim in a transaction (rolled back, so every repetition claims the same rows)."""
    import psycopg

    sql = claim_sql(limit)
    times = []
    with psycopg.connect(url) as conn:
        for _ in range(repeat):
            t0 = now_s()
            rows = conn.execute(sql, {"now": now}).fetchall()
            times.append(now_s() - t0)
            conn.rollback()
        plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql,
                                           {"now": now}).fetchall()]
        conn.rollback()
    return {"rows": len(rows), "ms": [round(t * 1000, 3) for t in times],
            "median_ms": median(times) * 1000, "explain": plan, "sql": sql,
            "uses_index": any("ix_reminder_timer_status_due" in line for line in plan)}


def sink_settings(sink: SmtpCounter, url: str, **extra: Any) -> Any:
    from datetime import time as dtime

    from app.config import Settings

    values = {"environment": "test", "secret_key": "bench-secret", "database_url": url,
              "scheduler_enabled": False, "smtp_host": "127.0.0.1", "smtp_port": sink.port,
              "smtp_timeout_seconds": 30, "base_url": "http://127.0.0.1:8000",
              "quiet_hours_start": dtime(0, 0), "quiet_hours_end": dtime(0, 0)}
    values.update(extra)
    return Settings(**values)


def smtplib_baseline(url: str, sink: SmtpCounter) -> tuple[float, int]:
    """The same messages (subject, text, HTML, headers) sent by a plain smtplib loop."""
    import psycopg

    from app.notifications.mailer import build_message

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT key, kind, to_address, subject, body_text, body_html"
                            " FROM outbox_message WHERE status = 'sent' ORDER BY id").fetchall()
    settings = sink_settings(sink, "")
    at = datetime.now(UTC)
    messages = [build_message(settings=settings, key="baseline:" + key, kind=kind, to_name="",
                              to_address=addr, subject=subj, text=text, html=html, at=at)
                for key, kind, addr, subj, text, html in rows]
    t0 = now_s()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as smtp:
        for message in messages:
            smtp.send_message(message)
    return now_s() - t0, len(messages)


def scheduler_bank(url: str) -> tuple[Any, Any, Any, int]:
    """The schema, the real workflows with the reminder hooks, and the bench's bank on a scratch
    database: (engine, registry, org, the plan workflow's definition id)."""
    from sqlmodel import Session

    engine = create_schema(url)
    registry = install_engine(WORKFLOWS, plan_hook=True)
    with Session(engine) as session:
        org = build_org(session, branches=4, subs_per_branch=10, staff_per_sub=25)
        registry.sync(session)
        session.commit()
        definition_id = registry.current_ids["improvement_plan"]
    return engine, registry, org, definition_id


def bench_scale(total: int, due: int) -> tuple[list[Figure], dict[str, Any]]:
    from app.reminders.sweep import sweep

    figures: list[Figure] = []
    extra: dict[str, Any] = {"timers": total, "due": due}
    with scratch_pg("sched") as url:
        engine, registry, org, definition_id = scheduler_bank(url)
        now = datetime.now(UTC)
        t0 = now_s()
        populate_timers(url, org, definition_id, total, due, now)
        log(f"scheduler: {total:,} timers ({due:,} due) loaded in {now_s() - t0:.0f} s")
        batch = time_claim(url, 100, now)
        whole = time_claim(url, due, now)
        extra.update({"claim_batch": batch, "claim_all_due": whole})
        figures.append(Figure(
            "4", f"Due-claim query (batch of 100) over {total:,} timers, {due:,} due",
            batch["median_ms"], "ms", None, "", None, "≤ 50 ms",
            batch["median_ms"] <= 50 and batch["uses_index"],
            ("EXPLAIN shows ix_reminder_timer_status_due" if batch["uses_index"]
             else "EXPLAIN does NOT show the index")
            + f"; claiming all {due:,} due at once: {whole['median_ms']:.1f} ms",
            {"ms": batch["ms"], "all_due_ms": whole["ms"]}))

        sink = SmtpCounter()
        sink.start()
        try:
            settings = sink_settings(sink, url)
            t0 = now_s()
            report = sweep(engine, now, settings=settings, registry=registry)
            sweep_s = now_s() - t0
            received, distinct = sink.count()
            log(f"scheduler: sweep sent {report.sent} in {sweep_s:.1f} s "
                f"(queued {report.queued}, errors {report.errors[:2]})")
            base_s, base_n = smtplib_baseline(url, sink)
            log(f"scheduler: smtplib sent {base_n} in {base_s:.1f} s")
        finally:
            sink.stop()
        engine.dispose()
    rate = report.sent / sweep_s if sweep_s else 0.0
    base = base_n / base_s if base_s else 0.0
    ratio = rate / base if base else 0.0
    extra.update({"sweep_s": sweep_s, "sweep_report": report.__dict__, "smtplib_s": base_s,
                  "sink_received": received, "sink_distinct": distinct})
    figures.append(Figure(
        "4", f"Reminder delivery: {due:,} due timers → local SMTP (the sweep)", rate,
        "messages/s", base, "plain smtplib loop, same messages", ratio, "≥ 0.6", ratio >= 0.6,
        (f"sweep sent {report.sent}, sink got {received} ({distinct} distinct)"
         + ("" if ratio >= 0.7 else
            "; besides sending, the sweep fires the timers and arms their next rungs (a "
            "batch of 100 at a time), writes the mails in their readers' languages (a "
            "batch of 10 doubling to 100, claimed under advisory locks; cases, "
            "tasks, delegations read together, links and copies stored together), builds "
            "each MIME message, and records each one by a durable autocommitted UPDATE the "
            "moment the server accepts it (exactly once: a disk flush per message); smtplib "
            "only sends"))))
    return figures, extra


# --- item 7: several nodes ---------------------------------------------------------------------


def start_scheduler(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`stepwise scheduler` as its own process."""
    return subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler"], cwd=PROJECT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def several_nodes(web_workers: int, schedulers: int, plans: int, due: int) -> dict[str, Any]:
    """Sign-off POSTs against N web workers while M schedulers deliver `due` reminders."""
    import psycopg

    from bench import web
    from bench.servers import SmtpCounter

    with scratch_pg(f"nodes{web_workers}{schedulers}") as url:
        pairs, engine = web.prepare(url, plans)
        from sqlmodel import Session

        with Session(engine) as session:
            from app.engine.runtime import get_registry

            definition_id = get_registry().current_ids["improvement_plan"]
            from sqlmodel import select

            from app.org.models import Person

            people = [p.id for p in session.exec(select(Person).where(
                Person.post == "客户经理"))]
        engine.dispose()

        with psycopg.connect(url) as conn:
            subs = [r[0] for r in conn.execute(
                "SELECT id FROM org_unit WHERE kind = 'sub_branch'").fetchall()]

        class _Org:  # what populate_timers reads of a bank
            employees = people
            sub_branches = subs
        now = datetime.now(UTC)
        populate_timers(url, _Org, definition_id, due * 4, due, now)
        sink = SmtpCounter()
        sink.start()
        procs: list[subprocess.Popen[bytes]] = []
        var = tempfile.mkdtemp(prefix="bench_nodes_")
        try:
            sa = url.replace("postgresql://", "postgresql+psycopg://")
            env = stepwise_env(sa, Path(var), STEPWISE_SMTP_HOST="127.0.0.1",
                               STEPWISE_SMTP_PORT=str(sink.port),
                               STEPWISE_SCHEDULER_INTERVAL_SECONDS="1",
                               STEPWISE_QUIET_HOURS_START="00:00",
                               STEPWISE_QUIET_HOURS_END="00:00",
                               STEPWISE_SWEEP_BATCH_SIZE="50")
            port = free_port()
            web_proc = start_uvicorn("app.main:create_app", port, web_workers, env)
            procs.append(web_proc)
            t0 = now_s()
            for _ in range(schedulers):
                procs.append(start_scheduler(env))
            results: list[Any] = []
            threads = [threading.Thread(target=web.sign_worker, args=(port, p, results))
                       for p in pairs]
            rate, _, statuses = web.drive(threads, results)
            deadline = now_s() + max(120, due / 5)
            while now_s() < deadline:
                with psycopg.connect(url) as conn:
                    pending = conn.execute(
                        "SELECT (SELECT count(*) FROM reminder_timer WHERE status = 'pending'"
                        " AND due_at <= %s) + (SELECT count(*) FROM outbox_message WHERE"
                        " status = 'pending')", (now,)).fetchone()[0]
                if pending == 0 and sink.count()[0] >= due:
                    break
                time.sleep(0.5)
            deliver_s = now_s() - t0
            time.sleep(2)  # a late duplicate would show up now
            with psycopg.connect(url) as conn:
                sent = conn.execute("SELECT count(*) FROM outbox_message WHERE status = 'sent'"
                                    ).fetchone()[0]
            received, distinct = sink.count()
        finally:
            for proc in procs:
                stop(proc)
            sink.stop()
    return {"web_workers": web_workers, "schedulers": schedulers, "post_rps": rate,
            "statuses": statuses, "deliver_s": deliver_s, "delivered_per_s": received / deliver_s,
            "outbox_sent": sent, "sink_received": received, "sink_distinct": distinct,
            "due": due}


def main() -> None:
    total, due = scaled(1_000_000, 50_000), scaled(10_000, 1_000)
    figures, extra = bench_scale(total, due)
    plans, due7 = scaled(200, 32), scaled(2_000, 400)
    one = several_nodes(1, 1, plans, due7)
    log(f"nodes 1+1: {one['post_rps']:.1f} POST/s, {one['delivered_per_s']:.1f} msg/s, "
        f"{one['sink_received']} received / {one['sink_distinct']} distinct")
    two = several_nodes(2, 2, plans, due7)
    log(f"nodes 2+2: {two['post_rps']:.1f} POST/s, {two['delivered_per_s']:.1f} msg/s, "
        f"{two['sink_received']} received / {two['sink_distinct']} distinct")
    extra.update({"nodes_1_1": one, "nodes_2_2": two})
    once = two["sink_received"] == two["sink_distinct"] == two["outbox_sent"]
    figures.append(Figure(
        "7", "2 web workers + 2 schedulers: sign-off POSTs while delivering", two["post_rps"],
        "POST/s", one["post_rps"], "1 web worker + 1 scheduler, same work",
        two["post_rps"] / one["post_rps"], "scales (> 1×)", two["post_rps"] > one["post_rps"],
        f"delivery {two['delivered_per_s']:.1f} vs {one['delivered_per_s']:.1f} msg/s"))
    figures.append(Figure(
        "7", "Messages sent twice (count at the SMTP sink)",
        float(two["sink_received"] - two["sink_distinct"]), "duplicates", None, "", None,
        "0", once and two["sink_received"] >= due7,
        f"{two['sink_received']} received, {two['sink_distinct']} distinct Message-IDs, "
        f"{two['outbox_sent']} outbox rows sent, {due7} due"))
    write_part("scheduler", figures, extra)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(PROJECT))
    main()
