"""Item 2: the same improvement-plan lifecycle (8 human steps) run by SpiffWorkflow from a real
BPMN model (bench/bpmn/improvement_plan.bpmn), its serialized state in a PostgreSQL `json`
column (not `jsonb`: that reorders keys and breaks deserialisation), beside Stepwise.

(a) stateless: every step loads the row FOR UPDATE, deserialises, runs the task, serialises,
    updates: what a multi-worker web app must do;
(b) kept in memory: the workflow object lives on, each step is serialised and saved;
(c) "which steps are overdue, per branch" over many instances: Stepwise's indexed query vs the
    peer, which must load and inspect every instance;
and the bytes each stores per finished lifecycle, audit included.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    BENCH_DIR,
    PLAN_STEPS,
    Figure,
    bare_workflows,
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
from bench.workload import Lifecycle, engine_step

BPMN_FILE = BENCH_DIR / "bpmn" / "improvement_plan.bpmn"
PROCESS_ID = "improvement_plan"
# The BPMN task each Stepwise step corresponds to, and the lane that may run it.
BPMN_STEPS = ["record_gap", "analyse_causes", "choose_methods", "draft_plan", "propose",
              "sign_employee", "sign_supervisor", "begin"]
STATE_OF_STEP = ["draft", "gap_identified", "causes_analysed", "methods_chosen", "plan_drafted",
                 "plan_proposed", "plan_proposed", "plan_agreed"]
ROUNDS = 3

PEER_DDL = """
CREATE TABLE peer_instance (
    id bigserial PRIMARY KEY,
    subject_id integer NOT NULL,
    branch_id integer NOT NULL,
    state json NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""


class Peer:
    """A SpiffWorkflow-backed server for the lifecycle: parse once, serialise every step."""

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN_FILE))
        self.spec = parser.get_spec(PROCESS_ID)
        self.subprocesses = parser.get_subprocess_specs(PROCESS_ID)
        self.serializer = BpmnWorkflowSerializer()

    def new(self, subject: int, supervisor: int, branch: int, due: datetime) -> Any:
        """A started workflow waiting on its first user task (due date on the task)."""
        from SpiffWorkflow.bpmn import BpmnWorkflow

        wf = BpmnWorkflow(self.spec, self.subprocesses)
        wf.data.update({"subject": subject, "supervisor": supervisor, "branch": branch})
        wf.do_engine_steps()
        self._stamp_due(wf, due)
        return wf

    @staticmethod
    def ready(wf: Any) -> Any:
        from SpiffWorkflow.util.task import TaskState

        return wf.get_next_task(state=TaskState.READY, manual=True)

    def _stamp_due(self, wf: Any, due: datetime) -> None:
        task = self.ready(wf)
        if task is not None:
            task.data["due_at"] = due.isoformat()

    def run_step(self, wf: Any, k: int, actor: int, role: str, due: datetime) -> None:
        """Run step k as the actor: the lane must match (the peer's permission check)."""
        task = self.ready(wf)
        if task is None or task.task_spec.bpmn_id != BPMN_STEPS[k]:
            raise RuntimeError(f"peer out of step at {k}: {task}")
        if task.task_spec.lane != role:
            raise RuntimeError(f"{role} may not run {BPMN_STEPS[k]}")
        task.data.update({"actor": actor, "at": datetime.now(UTC).isoformat()})
        if BPMN_STEPS[k].startswith("sign"):
            task.data["meaning"] = "agree"
        task.run()
        wf.do_engine_steps()
        self._stamp_due(wf, due)

    def dumps(self, wf: Any) -> str:
        return self.serializer.serialize_json(wf)

    def loads(self, text: str) -> Any:
        return self.serializer.deserialize_json(text)


def _due() -> datetime:
    return datetime.now(UTC) + timedelta(days=5)


def peer_lifecycle_stateless(peer: Peer, conn: Any, lc: Lifecycle, branch: int) -> None:
    """Create, then 8 steps each: SELECT … FOR UPDATE, deserialise, run, serialise, UPDATE."""
    wf = peer.new(lc.employee, lc.supervisor, branch, _due())
    with conn.cursor() as cur:
        cur.execute("INSERT INTO peer_instance (subject_id, branch_id, state) VALUES"
                    " (%s, %s, %s::json) RETURNING id", (lc.employee, branch, peer.dumps(wf)))
        pid = cur.fetchone()[0]
        conn.commit()
        for k, (_, who) in enumerate(PLAN_STEPS):
            cur.execute("SELECT state::text FROM peer_instance WHERE id = %s FOR UPDATE", (pid,))
            wf = peer.loads(cur.fetchone()[0])
            peer.run_step(wf, k, lc.employee if who == "employee" else lc.supervisor, who,
                          _due())
            cur.execute("UPDATE peer_instance SET state = %s::json, updated_at = now()"
                        " WHERE id = %s", (peer.dumps(wf), pid))
            conn.commit()


def peer_lifecycle_in_memory(peer: Peer, conn: Any, lc: Lifecycle, branch: int) -> None:
    """Create, then 8 steps on the live object, each serialised and saved."""
    wf = peer.new(lc.employee, lc.supervisor, branch, _due())
    with conn.cursor() as cur:
        cur.execute("INSERT INTO peer_instance (subject_id, branch_id, state) VALUES"
                    " (%s, %s, %s::json) RETURNING id", (lc.employee, branch, peer.dumps(wf)))
        pid = cur.fetchone()[0]
        conn.commit()
        for k, (_, who) in enumerate(PLAN_STEPS):
            peer.run_step(wf, k, lc.employee if who == "employee" else lc.supervisor, who,
                          _due())
            cur.execute("UPDATE peer_instance SET state = %s::json, updated_at = now()"
                        " WHERE id = %s", (peer.dumps(wf), pid))
            conn.commit()


def stepwise_lifecycle(engine: Any, org: Any, emp: int) -> int:
    """Start a plan (own transaction) and walk the 8 steps (one transaction each)."""
    from sqlmodel import Session

    from app.engine import runtime
    from app.org.models import Person

    with Session(engine, expire_on_commit=False) as session:
        inst = runtime.start(session, workflow="improvement_plan",
                             subject=session.get(Person, emp), title="报表迟报",
                             context={"cycle": 1, "period_end": "2027-06-30"})
        session.commit()
        iid = inst.id
    sup = org.supervisor_of[emp]
    for trigger, who in PLAN_STEPS:
        engine_step(engine, iid, trigger, emp if who == "employee" else sup)
    return iid


# --- bytes -------------------------------------------------------------------------------------


def stepwise_bytes(conn: Any, ids: list[int]) -> dict[str, float]:
    """Tuple bytes per lifecycle in each table (pg_column_size of the stored rows)."""
    out = {}
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM workflow_instance t"
                    " WHERE id = ANY(%s)", (ids,))
        out["workflow_instance"] = cur.fetchone()[0] / len(ids)
        for table in ("audit_event", "task", "sign_off", "reminder_timer", "outbox_message"):
            cur.execute(f"SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM {table} t"
                        " WHERE instance_id = ANY(%s)", (ids,))
            out[table] = cur.fetchone()[0] / len(ids)
    out["total"] = sum(out.values())
    return out


def peer_bytes(conn: Any, ids: list[int]) -> dict[str, float]:
    with conn.cursor() as cur:
        cur.execute("SELECT avg(pg_column_size(p.*)), avg(octet_length(state::text))"
                    " FROM peer_instance p WHERE id = ANY(%s)", (ids,))
        stored, text = cur.fetchone()
    return {"total": float(stored), "json_text_uncompressed": float(text)}


# --- (c) the overdue question ------------------------------------------------------------------

OVERDUE_SQL = """
SELECT split_part(u.path, '/', 3)::int AS branch_id, t.state, count(DISTINCT t.instance_id)
FROM task t
JOIN workflow_instance i ON i.id = t.instance_id
JOIN org_unit u ON u.id = i.org_unit_id
WHERE t.status = 'open' AND t.due_at < %s
GROUP BY 1, 2
"""


def populate_overdue(conn: Any, peer: Peer, org: Any, definition_id: int, n: int,
                     now: datetime) -> dict[int, int]:
    """n instances on both sides from one seed: same branch, step and due date each; a tenth
    overdue. Stepwise gets its instance and open-task rows (as fire() leaves them), the peer a
    real serialization of its workflow at that step. The expected answer, per branch."""
    rng = random.Random(11)
    subs = org.sub_branches
    # One real serialization per step; each instance is that workflow with its own data, set
    # through Spiff's API (task data is stored as deltas, so the JSON is not edited by hand).
    templates = []
    wf = peer.new(1, 2, 1, now)
    for k in range(len(BPMN_STEPS)):
        templates.append(peer.dumps(wf))
        role = PLAN_STEPS[k][1]
        peer.run_step(wf, k, 1 if role == "employee" else 2, role, now)
    expected: dict[int, int] = {}
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM workflow_instance")
        base = cur.fetchone()[0]
        inst_buf, task_buf, peer_buf = io.StringIO(), io.StringIO(), io.StringIO()
        for i in range(n):
            unit = subs[rng.randrange(len(subs))]
            branch = org.branch_of_unit[unit]
            k = rng.randrange(len(BPMN_STEPS))
            overdue = rng.random() < 0.1
            due = now - timedelta(days=rng.randint(1, 20)) if overdue else \
                now + timedelta(days=rng.randint(1, 20))
            if overdue:
                expected[branch] = expected.get(branch, 0) + 1
            iid = base + 1 + i
            state = STATE_OF_STEP[k]
            emp = org.employees[i % len(org.employees)]
            inst_buf.write(f"{iid}\t{definition_id}\timprovement_plan\t{state}\t{k + 1}\tplan\t"
                           f"{emp}\t{emp}\t{unit}\t{{\"cycle\": 1}}\t{now.isoformat()}\t"
                           f"{now.isoformat()}\n")
            exprs = ["subject.supervisor"] if k == 6 else ["subject"] if k in (4, 5) else \
                ["subject", "subject.supervisor"]
            for expr in exprs:
                kind = "sign_off" if k in (5, 6) else "act"
                task_buf.write(f"{iid}\t{state}\t{kind}\t{emp}\t{expr}\t\topen\t"
                               f"{due.isoformat()}\t{now.isoformat()}\n")
            wf = peer.loads(templates[k])
            wf.data.update({"subject": emp, "branch": branch})
            peer.ready(wf).data["due_at"] = due.isoformat()
            text = peer.dumps(wf)
            peer_buf.write(f"{emp}\t{branch}\t" + text.replace("\\", "\\\\") + "\n")
        inst_buf.seek(0)
        task_buf.seek(0)
        peer_buf.seek(0)
        with cur.copy("COPY workflow_instance (id, definition_id, workflow, state, version,"
                      " title, subject_id, initiator_id, org_unit_id, context, created_at,"
                      " updated_at) FROM STDIN") as copy:
            copy.write(inst_buf.read())
        cur.execute("SELECT setval(pg_get_serial_sequence('workflow_instance', 'id'),"
                    " (SELECT max(id) FROM workflow_instance))")
        with cur.copy("COPY task (instance_id, state, kind, assignee_id, actor_expr, ref, status,"
                      " due_at, created_at) FROM STDIN") as copy:
            copy.write(task_buf.read())
        with cur.copy("COPY peer_instance (subject_id, branch_id, state) FROM STDIN") as copy:
            copy.write(peer_buf.read())
        conn.commit()
        cur.execute("ANALYZE")
        conn.commit()
    return expected


def stepwise_overdue(conn: Any, now: datetime) -> dict[int, int]:
    per_branch: dict[int, int] = {}
    with conn.cursor() as cur:
        cur.execute(OVERDUE_SQL, (now,))
        for branch, _state, count in cur.fetchall():
            per_branch[branch] = per_branch.get(branch, 0) + count
    conn.commit()
    return per_branch


def peer_overdue(conn: Any, peer: Peer, now: datetime) -> dict[int, int]:
    """What the peer must do: read every stored workflow, deserialise, inspect its ready tasks."""
    per_branch: dict[int, int] = {}
    with conn.cursor(name="scan") as cur:
        cur.itersize = 500
        cur.execute("SELECT state::text FROM peer_instance")
        for (text,) in cur:
            wf = peer.loads(text)
            task = peer.ready(wf)
            if task is None:
                continue
            due = task.data.get("due_at")
            if due and datetime.fromisoformat(due) < now:
                branch = wf.data["branch"]
                per_branch[branch] = per_branch.get(branch, 0) + 1
    conn.commit()
    return per_branch


def main() -> None:
    import psycopg
    from sqlmodel import Session

    per_round = scaled(100, 20)
    overdue_n = scaled(100_000, 1_000)
    peer = Peer()
    figures: list[Figure] = []
    extra: dict[str, Any] = {"bpmn": str(BPMN_FILE.relative_to(BENCH_DIR.parent)),
                             "lifecycles_per_round": per_round, "overdue_instances": overdue_n}
    with scratch_pg("peer") as url, bare_workflows() as wf_dir:
        engine = create_schema(url)
        registry = install_engine(wf_dir)
        with Session(engine) as session:
            org = build_org(session, branches=4, subs_per_branch=5, staff_per_sub=10)
            registry.sync(session)
            session.commit()
            definition_id = registry.current_ids["improvement_plan"]
        conn = psycopg.connect(url)
        conn.execute(PEER_DDL)
        conn.commit()
        # warm both (imports, caches, prepared statements)
        stepwise_lifecycle(engine, org, org.employees[0])
        lc0 = Lifecycle(0, org.employees[0], org.supervisor_of[org.employees[0]])
        peer_lifecycle_stateless(peer, conn, lc0, org.branches[0])
        rates: dict[str, list[float]] = {"stepwise": [], "stateless": [], "memory": []}
        samples: dict[str, list[float]] = {k: [] for k in rates}
        sw_ids: list[int] = []
        peer_ids: list[int] = []
        emp_i = 1
        for r in range(ROUNDS):
            order = ["stepwise", "stateless", "memory"]
            order = order[r % 3:] + order[:r % 3]
            for kind in order:
                t_round = now_s()
                for _ in range(per_round):
                    emp = org.employees[emp_i % len(org.employees)]
                    emp_i += 1
                    lc = Lifecycle(0, emp, org.supervisor_of[emp])
                    branch = org.branches[0]
                    t0 = now_s()
                    if kind == "stepwise":
                        sw_ids.append(stepwise_lifecycle(engine, org, emp))
                    elif kind == "stateless":
                        peer_lifecycle_stateless(peer, conn, lc, branch)
                    else:
                        peer_lifecycle_in_memory(peer, conn, lc, branch)
                    samples[kind].append(now_s() - t0)
                rates[kind].append(per_round / (now_s() - t_round))
                log(f"peer round {r + 1} {kind}: {rates[kind][-1]:.2f} lifecycles/s")
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM peer_instance WHERE id > 1 ORDER BY id")
            peer_ids = [row[0] for row in cur.fetchall()]
        sw_b = stepwise_bytes(conn, sw_ids)
        peer_b = peer_bytes(conn, peer_ids)
        conn.commit()
        sw, st, mem = (median(rates[k]) for k in ("stepwise", "stateless", "memory"))
        extra.update({"lifecycles_per_s": rates,
                      "lifecycle_ms": {k: [round(x * 1000, 2) for x in v]
                                       for k, v in samples.items()},
                      "bytes_stepwise": sw_b, "bytes_peer": peer_b})
        figures += [
            Figure("2a", "Lifecycle (start + 8 steps), Stepwise vs SpiffWorkflow stateless", sw,
                   "lifecycles/s", st, "SpiffWorkflow: FOR UPDATE, deserialise, run, serialise",
                   sw / st, "≥ 1.5×", sw / st >= 1.5,
                   "" if sw / st >= 1.5 else
                   "per step Stepwise checks the actor, moves the instance with its version "
                   "check and writes audit, task and timer rows (~12 statements); the peer "
                   "2 statements and one JSON document"),
            Figure("2b", "Lifecycle, Stepwise vs SpiffWorkflow kept in memory", sw,
                   "lifecycles/s", mem, "SpiffWorkflow: run, serialise, UPDATE", sw / mem,
                   "≥ 1.0×", sw / mem >= 1.0,
                   "" if sw / mem >= 1.0 else
                   "the peer writes one row per step; Stepwise also writes audit, task and "
                   "timer rows"),
            Figure("2", "Bytes stored per finished lifecycle (audit included)", sw_b["total"],
                   "bytes", peer_b["total"], "SpiffWorkflow json row (TOAST-compressed)",
                   peer_b["total"] / sw_b["total"], "report", None,
                   "Stepwise rows: " + ", ".join(f"{k} {v:.0f}" for k, v in sw_b.items()
                                                  if k != "total")
                   + f"; peer JSON text {peer_b['json_text_uncompressed']:.0f} B uncompressed"),
        ]

        # (c) the overdue question
        now = datetime.now(UTC)
        with conn.cursor() as cur:
            cur.execute("DELETE FROM peer_instance")
        conn.commit()
        t0 = now_s()
        expected = populate_overdue(conn, peer, org, definition_id, overdue_n, now)
        log(f"overdue: {overdue_n} instances on each side in {now_s() - t0:.1f} s")
        with conn.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + OVERDUE_SQL, (now,))
            plan = [row[0] for row in cur.fetchall()]
        conn.commit()
        sw_times = []
        for _ in range(7):
            t0 = now_s()
            sw_answer = stepwise_overdue(conn, now)
            sw_times.append(now_s() - t0)
        t0 = now_s()
        peer_answer = peer_overdue(conn, peer, now)
        peer_time = now_s() - t0
        sw_q = median(sw_times)
        agree = sw_answer == peer_answer == expected
        extra.update({"overdue_explain": plan, "overdue_stepwise_s": sw_times,
                      "overdue_peer_s": peer_time, "overdue_answers_agree": agree,
                      "overdue_expected": expected, "overdue_stepwise_answer": sw_answer,
                      "overdue_peer_answer": peer_answer})
        figures.append(Figure(
            "2c", f"Overdue steps per branch over {overdue_n:,} instances", sw_q * 1000, "ms",
            peer_time * 1000, "SpiffWorkflow: load + deserialise every instance",
            peer_time / sw_q, "≥ 100×", peer_time / sw_q >= 100,
            ("answers agree" if agree else "ANSWERS DIFFER") + "; Stepwise median of 7"))
        conn.close()
        engine.dispose()
    write_part("peer", figures, extra)


if __name__ == "__main__":
    main()
