"""Guards named in a workflow file, and two real connections racing for one case."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.engine import runtime
from app.engine.guards import GUARDS, GuardContext, guard
from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from app.errors import StaleInstance
from app.i18n import Message
from tests.factories import bank, bare_plan_workflows

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

GUARDED = """
workflow: guarded
label: {en: Guarded, zh: 守卫}
initial: open
fields:
  comment: {type: textarea, label: {en: Comment, zh: 意见}}
  amount: {type: number, label: {en: Amount, zh: 金额}, min: 0, max: 100}
states:
  open: {label: {en: Open, zh: 打开}}
  done: {label: {en: Done, zh: 完成}, terminal: true}
  big: {label: {en: Big, zh: 大}, terminal: true}
transitions:
  - trigger: finish
    label: {en: Finish, zh: 完成}
    source: open
    actors: [subject]
    guards: [comment_given, weekday_only_for_test]
    form: [comment, amount]
    routes:
      - {dest: big, when: {field: amount, gte: 50}}
      - {dest: done}
"""


@pytest.fixture
def guarded_registry(tmp_path: Path) -> Registry:
    @guard("weekday_only_for_test")
    def _weekday(ctx: GuardContext) -> Message | None:
        return Message("Closed today.") if ctx.payload.get("comment") == "sunday" else None

    wf_dir = tmp_path / "wf"
    wf_dir.mkdir()
    shutil.copy(WORKFLOWS / "organisation.yaml", wf_dir)
    (wf_dir / "guarded.yaml").write_text(GUARDED, encoding="utf-8")
    registry = Registry(wf_dir)
    registry.load()
    yield registry
    GUARDS.pop("weekday_only_for_test", None)


def test_a_failing_guard_refuses_with_its_own_message(db: Session, guarded_registry) -> None:
    org = bank(db)
    guarded_registry.sync(db)
    instance = runtime.start(db, workflow="guarded", subject=org.employee,
                             registry=guarded_registry)
    with pytest.raises(runtime.GuardFailed, match="Please write a comment"):
        runtime.fire(db, instance, "finish", org.employee, {}, registry=guarded_registry)
    with pytest.raises(runtime.GuardFailed, match="Closed today"):
        runtime.fire(db, instance, "finish", org.employee, {"comment": "sunday"},
                     registry=guarded_registry)
    assert instance.state == "open"


def test_a_numeric_route_condition_picks_the_branch(db: Session, guarded_registry) -> None:
    org = bank(db)
    guarded_registry.sync(db)
    small = runtime.start(db, workflow="guarded", subject=org.employee, registry=guarded_registry)
    big = runtime.start(db, workflow="guarded", subject=org.employee, registry=guarded_registry)
    runtime.fire(db, small, "finish", org.employee, {"comment": "ok", "amount": "10"},
                 registry=guarded_registry)
    runtime.fire(db, big, "finish", org.employee, {"comment": "ok", "amount": "75"},
                 registry=guarded_registry)
    assert (small.state, big.state) == ("done", "big")


def test_concurrent_fires_on_postgresql_exactly_one_wins(db, engine, backend, tmp_path) -> None:
    if backend != "postgresql":
        pytest.skip("row-lock race is proven on PostgreSQL; SQLite serialises writers")
    registry = Registry(bare_plan_workflows(tmp_path))
    registry.load()
    runtime.set_registry(registry)
    org = bank(db)
    registry.sync(db)
    instance = runtime.start(db, workflow="improvement_plan", subject=org.employee)
    db.commit()

    first = Session(engine, expire_on_commit=False)
    second = Session(engine, expire_on_commit=False)
    outcome: dict[str, object] = {}
    try:
        mine = first.get(WorkflowInstance, instance.id)
        theirs = second.get(WorkflowInstance, instance.id)
        runtime.fire(first, mine, "record_gap", org.employee, {})  # holds the row lock
        pid = second.connection().exec_driver_sql("select pg_backend_pid()").scalar()

        def race() -> None:
            try:
                runtime.fire(second, theirs, "record_gap", org.manager_a, {})
                second.commit()
                outcome["second"] = "won"
            except StaleInstance as exc:
                second.rollback()
                outcome["second"] = exc

        racer = threading.Thread(target=race)
        racer.start()
        _wait_until_blocked(engine, pid)
        first.commit()
        racer.join(timeout=30)
    finally:
        first.close()
        second.close()
    assert isinstance(outcome["second"], StaleInstance)
    assert "Someone else acted" in str(outcome["second"])
    db.expire_all()
    assert db.get(WorkflowInstance, instance.id).state == "gap_identified"


def _wait_until_blocked(engine, pid: int) -> None:
    """Poll pg_stat_activity until the racing backend waits on our row lock."""
    query = sa.text("select wait_event_type from pg_stat_activity where pid = :pid")
    for _ in range(2000):
        with engine.connect() as conn:
            if conn.execute(query, {"pid": pid}).scalar() == "Lock":
                return
        threading.Event().wait(0.005)
    raise AssertionError("the second transaction never waited for the row lock")
