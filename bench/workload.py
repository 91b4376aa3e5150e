"""The lifecycle both sides run: 8 human steps through `runtime.fire()`, and a raw-SQL writer
that puts exactly the same rows in the same tables, one transaction per transition.

The raw writer is the physical floor of this design: it knows in advance which rows a step
writes (captured once from the engine on a probe instance), so it spends nothing on deciding,
only on the round trips a stateless server must make: read the instance, check and bump its
version, read the audit chain's head, insert the event, close and open tasks, delete the closed
tasks' timers and arm the new tasks' first rungs (one row each), record and consume signatures,
commit.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.common import PLAN_STEPS, Org, now_s

CONTENT_HASH = "c" * 64
PERIOD_END = "2027-06-30"


@dataclass
class Lifecycle:
    """One instance and the two people who walk it."""

    instance_id: int
    employee: int
    supervisor: int


def start_instances(engine: Any, org: Org, n: int, offset: int = 0) -> list[Lifecycle]:
    """Start n improvement plans (untimed set-up), spread over the bank's employees."""
    from sqlmodel import Session

    from app.engine import runtime
    from app.org.models import Person

    out: list[Lifecycle] = []
    with Session(engine, expire_on_commit=False) as session:
        for i in range(n):
            emp = org.employees[(offset + i) % len(org.employees)]
            person = session.get(Person, emp)
            inst = runtime.start(session, workflow="improvement_plan", subject=person,
                                 title="报表迟报", context={"cycle": 1, "period_end": PERIOD_END})
            out.append(Lifecycle(inst.id, emp, org.supervisor_of[emp]))
            if i % 200 == 199:
                session.commit()
        session.commit()
    return out


def engine_step(engine: Any, instance_id: int, trigger: str, actor_id: int) -> None:
    """One transition as a web request does it: fresh session, load, fire, commit."""
    from sqlmodel import Session

    from app.engine import runtime
    from app.engine.models import WorkflowInstance
    from app.org.models import Person

    with Session(engine, expire_on_commit=False) as session:
        instance = session.get(WorkflowInstance, instance_id)
        actor = session.get(Person, actor_id)
        runtime.fire(session, instance, trigger, actor, {}, expected_version=instance.version,
                     content_hash=CONTENT_HASH if trigger == "sign" else "")
        session.commit()


def engine_walk(engine: Any, lifecycles: list[Lifecycle]) -> list[float]:
    """Walk every lifecycle through the 8 steps; the latency of each transition (s)."""
    samples: list[float] = []
    for lc in lifecycles:
        for trigger, who in PLAN_STEPS:
            t0 = now_s()
            engine_step(engine, lc.instance_id, trigger,
                        lc.employee if who == "employee" else lc.supervisor)
            samples.append(now_s() - t0)
    return samples


# --- what one step writes, captured from the engine --------------------------------------------


@dataclass
class StepTemplate:
    """The rows one step writes, relative to the instance's people."""

    trigger: str
    actor: str  # "employee" / "supervisor"
    from_state: str
    to_state: str
    completed: bool
    comment: str
    payload: dict[str, Any]
    context: dict[str, Any]
    closes_instance: bool
    close_expr: str | None  # partial sign-off: only this expression's task closes
    new_tasks: list[dict[str, Any]] = field(default_factory=list)  # assignee as a role name
    new_timers: list[dict[str, Any]] = field(default_factory=list)  # with the task's index
    sign_off: dict[str, Any] | None = None
    consumes_sign_offs: bool = False


def _max_ids(session: Any) -> dict[str, int]:
    from sqlalchemy import text

    return {t: session.execute(text(f"select coalesce(max(id), 0) from {t}")).scalar_one()
            for t in ("task", "sign_off", "audit_event")}


def capture_templates(engine: Any, lc: Lifecycle) -> list[StepTemplate]:
    """Walk one probe lifecycle through the engine and record what each step wrote."""
    from sqlmodel import Session, select

    from app.engine.models import AuditEvent, SignOff, Task, WorkflowInstance
    from app.reminders.models import ReminderTimer

    role = {lc.employee: "employee", lc.supervisor: "supervisor", None: None}
    templates: list[StepTemplate] = []
    for trigger, who in PLAN_STEPS:
        with Session(engine) as s:
            before = _max_ids(s)
            consumed_before = s.execute(select(SignOff.id).where(
                SignOff.instance_id == lc.instance_id, SignOff.consumed_at.is_not(None))).all()
            open_before = {t.id: t.actor_expr for t in s.exec(select(Task).where(
                Task.instance_id == lc.instance_id, Task.status == "open"))}
        engine_step(engine, lc.instance_id, trigger, lc.employee if who == "employee"
                    else lc.supervisor)
        with Session(engine) as s:
            event = s.exec(select(AuditEvent).where(AuditEvent.id > before["audit_event"])).one()
            inst = s.get(WorkflowInstance, lc.instance_id)
            tasks = list(s.exec(select(Task).where(Task.id > before["task"]).order_by(Task.id)))
            index = {t.id: i for i, t in enumerate(tasks)}
            # by task, not by id: SQLite hands a deleted row's id to the next insert
            timers = list(s.exec(select(ReminderTimer).where(
                ReminderTimer.task_id.in_(list(index))).order_by(ReminderTimer.id)))
            signs = list(s.exec(select(SignOff).where(SignOff.id > before["sign_off"])))
            consumed_after = s.execute(select(SignOff.id).where(
                SignOff.instance_id == lc.instance_id, SignOff.consumed_at.is_not(None))).all()
            closed = [tid for tid in open_before if s.get(Task, tid).status != "open"]
            completed = event.from_state != event.to_state or bool(tasks)
            t = StepTemplate(
                trigger=trigger, actor=who, from_state=event.from_state, to_state=event.to_state,
                completed=completed, comment=event.comment, payload=dict(event.payload),
                context=dict(inst.context), closes_instance=inst.closed_at is not None,
                close_expr=None if completed else open_before[closed[0]],
                consumes_sign_offs=len(consumed_after) > len(consumed_before),
            )
            for task in tasks:
                if task.assignee_id not in role or task.group_kind is not None:
                    raise RuntimeError(f"unexpected task assignee in template: {task}")
                t.new_tasks.append({"state": task.state, "kind": task.kind,
                                    "assignee": role[task.assignee_id],
                                    "actor_expr": task.actor_expr, "ref": task.ref,
                                    "due_at": task.due_at})
            for timer in timers:
                t.new_timers.append({"task": index[timer.task_id], "kind": timer.kind,
                                     "level": timer.level, "due_at": timer.due_at,
                                     "status": timer.status})
            if signs:
                (so,) = signs
                t.sign_off = {"state": so.state, "trigger": so.trigger,
                              "signer_expr": so.signer_expr, "meaning": so.meaning,
                              "disagreement": so.disagreement, "content_hash": so.content_hash}
            templates.append(t)
    return templates


# --- the raw writer ----------------------------------------------------------------------------


def _sealed_hash(instance_id: int, seq: int, at: datetime, actor_id: int, trigger: str,
                 from_state: str, to_state: str, comment: str, payload_hash: str,
                 prev_hash: str) -> str:
    from app.engine.audit import canonical_json, sha256_hex

    return sha256_hex(canonical_json({
        "instance_id": instance_id, "seq": seq, "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id, "on_behalf_of_id": None, "trigger": trigger,
        "from_state": from_state, "to_state": to_state, "comment": comment,
        "payload_hash": payload_hash, "prev_hash": prev_hash}))


class RawWriter:
    """Writes a step's rows with plain DB-API calls: psycopg (PostgreSQL) or sqlite3."""

    def __init__(self, conn: Any, dialect: str, templates: list[StepTemplate]) -> None:
        self.conn = conn
        self.dialect = dialect
        self.templates = templates
        self.p = "%s" if dialect == "postgresql" else "?"
        cur = conn.cursor()
        if dialect == "postgresql":
            cur.execute("SELECT to_regclass('audit_head') IS NOT NULL")
        else:
            cur.execute("SELECT count(*) FROM sqlite_master WHERE name = 'audit_head'")
        self.audit_head = bool(cur.fetchone()[0])  # the chain's head row, where it exists
        from app.engine.audit import current_keyring

        self.keyring = current_keyring()
        if dialect == "postgresql":
            conn.commit()  # sqlite3 runs in autocommit here: no transaction is open

    def _ts(self, value: datetime | None) -> Any:
        if value is None or self.dialect == "postgresql":
            return value
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ",
                                                                     timespec="microseconds")

    def _json(self, value: Any) -> Any:
        text = json.dumps(value, ensure_ascii=False)
        if self.dialect == "postgresql":
            from psycopg.types.json import Json

            return Json(value)
        return text

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "postgresql" else sql.replace("%s", "?")

    def step(self, lc: Lifecycle, k: int) -> None:
        """Step k of the lifecycle, in one transaction."""
        from app.engine.audit import canonical_json, sha256_hex

        t = self.templates[k]
        cur = self.conn.cursor()
        x = lambda sql, params=(): cur.execute(self._sql(sql), params)  # noqa: E731
        now = datetime.now(UTC)
        actor = lc.employee if t.actor == "employee" else lc.supervisor
        people = {"employee": lc.employee, "supervisor": lc.supervisor, None: None}
        if self.dialect == "sqlite":
            x("BEGIN")
        x("SELECT state, version FROM workflow_instance WHERE id = %s", (lc.instance_id,))
        state, version = cur.fetchone()
        if state != t.from_state:
            raise RuntimeError(f"raw writer out of step: {state} != {t.from_state}")
        x("UPDATE workflow_instance SET state = %s, version = %s, updated_at = %s, context = %s,"
          " closed_at = %s WHERE id = %s AND version = %s RETURNING id",
          (t.to_state, version + 1, self._ts(now), self._json(t.context),
           self._ts(now) if t.closes_instance else None, lc.instance_id, version))
        if cur.fetchone() is None:
            raise RuntimeError("stale instance")
        if self.audit_head:  # the chain's end, as the engine reads it
            x("SELECT seq, hash FROM audit_head WHERE instance_id = %s", (lc.instance_id,))
        else:
            x("SELECT seq, hash FROM audit_event WHERE instance_id = %s ORDER BY seq DESC"
              " LIMIT 1", (lc.instance_id,))
        seq, prev = cur.fetchone()
        payload_hash = sha256_hex(canonical_json(t.payload))
        digest = _sealed_hash(lc.instance_id, seq + 1, now, actor, t.trigger, t.from_state,
                              t.to_state, t.comment, payload_hash, prev)
        key_id = self.keyring.current  # sealed with the audit key, as the engine seals
        seal = self.keyring.seal(key_id, f"event\n{key_id}\n{digest}") or ""
        x("INSERT INTO audit_event (instance_id, seq, at, actor_id, on_behalf_of_id, trigger,"
          " from_state, to_state, comment, payload, payload_hash, prev_hash, hash, key_id,"
          " seal) VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
          (lc.instance_id, seq + 1, self._ts(now), actor, t.trigger, t.from_state, t.to_state,
           t.comment, self._json(t.payload), payload_hash, prev, digest, key_id, seal))
        if self.audit_head:
            head_seal = self.keyring.seal(key_id, f"head\n{lc.instance_id}\n{seq + 1}\n{digest}")
            x("UPDATE audit_head SET seq = %s, hash = %s, at = %s, seal = %s"
              " WHERE instance_id = %s",
              (seq + 1, digest, self._ts(now), head_seal, lc.instance_id))
        if t.sign_off is not None:
            so = t.sign_off
            x("INSERT INTO sign_off (instance_id, state, trigger, signer_expr, signer_id,"
              " on_behalf_of_id, meaning, disagreement, content_hash, at)"
              " VALUES (%s, %s, %s, %s, %s, NULL, %s, %s, %s, %s)",
              (lc.instance_id, so["state"], so["trigger"], so["signer_expr"], actor,
               so["meaning"], so["disagreement"], so["content_hash"], self._ts(now)))
        if t.consumes_sign_offs:
            x("UPDATE sign_off SET consumed_at = %s WHERE instance_id = %s AND state = %s"
              " AND voided_at IS NULL AND consumed_at IS NULL",
              (self._ts(now), lc.instance_id, t.from_state))
        close = ("UPDATE task SET status = 'done', closed_at = %s, closed_by_id = %s"
                 " WHERE instance_id = %s AND status = 'open'")
        params: tuple[Any, ...] = (self._ts(now), actor, lc.instance_id)
        if t.close_expr is not None:
            close += " AND actor_expr = %s"
            params += (t.close_expr,)
        x(close, params)
        if not t.completed:
            self.conn.commit()
            return
        task_ids: list[int] = []
        if t.new_tasks:
            rows = ", ".join(["(%s, %s, %s, %s, NULL, NULL, NULL, %s, %s, 'open', %s, %s)"]
                             * len(t.new_tasks))
            values: list[Any] = []
            for task in t.new_tasks:
                values += [lc.instance_id, task["state"], task["kind"], people[task["assignee"]],
                           task["actor_expr"], task["ref"], self._ts(task["due_at"]),
                           self._ts(now)]
            x("INSERT INTO task (instance_id, state, kind, assignee_id, group_kind, group_name,"
              " org_unit_id, actor_expr, ref, status, due_at, created_at) VALUES " + rows
              + " RETURNING id", tuple(values))
            task_ids = sorted(row[0] for row in cur.fetchall())
        # As the engine's hook: the pending timer of every closed task of this instance goes
        # (a partial sign-off closed a task earlier without touching its timer).
        x("DELETE FROM reminder_timer WHERE instance_id = %s AND status = 'pending' AND"
          " task_id IN (SELECT id FROM task WHERE instance_id = %s AND status <> 'open')",
          (lc.instance_id, lc.instance_id))
        if t.new_timers:
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(t.new_timers))
            values = []
            for timer in t.new_timers:
                task_id = task_ids[timer["task"]]
                values += [f"task:{task_id}:{timer['kind']}:{timer['level']}", task_id,
                           lc.instance_id, timer["kind"], timer["level"],
                           self._ts(timer["due_at"]), timer["status"], self._ts(now)]
            x("INSERT INTO reminder_timer (key, task_id, instance_id, kind, level, due_at,"
              " status, created_at) VALUES " + rows, tuple(values))
        self.conn.commit()

    def walk(self, lifecycles: list[Lifecycle]) -> list[float]:
        """Every lifecycle through the 8 steps; the latency of each transition (s)."""
        samples: list[float] = []
        for lc in lifecycles:
            for k in range(len(self.templates)):
                t0 = now_s()
                self.step(lc, k)
                samples.append(now_s() - t0)
        return samples


def raw_connect(url: str) -> tuple[Any, str]:
    """A DB-API connection for the raw writer: psycopg for PostgreSQL, sqlite3 with the app's
    pragmas (WAL, synchronous=NORMAL, foreign keys, busy timeout) for SQLite."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000",
                       "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        return _SqliteAdapter(conn), "sqlite"
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")), "postgresql"


class _SqliteAdapter:
    """sqlite3 in autocommit mode with explicit BEGIN/COMMIT (as the app's engine does)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


def max_timer_id(engine: Any) -> int:
    """The highest timer id so far (PostgreSQL's sequence never gives one back, so the rise over
    a walk counts the timer rows inserted, deleted ones included)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("select coalesce(max(id), 0) from reminder_timer")).scalar_one()


def rows_per_lifecycle(engine: Any, instance_ids: list[int],
                       timer_id_before: int | None = None) -> dict[str, float]:
    """Rows in each table per instance (to show both sides wrote the same); with the timer id
    before the instances were started, also the timer rows inserted and deleted (PostgreSQL)."""
    from sqlalchemy import bindparam, text

    out: dict[str, float] = {}
    with engine.connect() as conn:
        for table in ("audit_event", "task", "reminder_timer", "sign_off"):
            n = conn.execute(text(f"select count(*) from {table} where instance_id in :ids")
                             .bindparams(bindparam("ids", expanding=True)),
                             {"ids": instance_ids}).scalar_one()
            out[table] = n / len(instance_ids)
        n = conn.execute(text("select count(*) from reminder_timer where status = 'pending'"
                              " and instance_id in :ids")
                         .bindparams(bindparam("ids", expanding=True)),
                         {"ids": instance_ids}).scalar_one()
        out["reminder_timer pending"] = n / len(instance_ids)
    if timer_id_before is not None and engine.dialect.name == "postgresql":
        inserted = (max_timer_id(engine) - timer_id_before) / len(instance_ids)
        out["reminder_timer inserted"] = inserted
        out["reminder_timer deleted (task closed)"] = inserted - out["reminder_timer"]
    return out
