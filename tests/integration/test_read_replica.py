"""Reports on a real PostgreSQL streaming replica: the dashboard, lists and exports read it,
writes go to the primary, and nobody reads their own change missing.

The proof that a report was read on the replica: its replay is paused while the primary moves
on, and the report still shows the old numbers (pg_wal_replay_pause on the standby)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app import clock
from app.db import make_engine
from app.engine.models import TaskStatus
from app.reports.lists import waiting_key
from tests.pg_clusters import LocalCluster, wait_for_replay
from tests.report_helpers import World, build
from tests.smtp_sink import free_port


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("a streaming replica exists only for PostgreSQL")


@pytest.fixture
def replica(request: pytest.FixtureRequest, backend: str) -> LocalCluster | None:
    return request.getfixturevalue("pg_replica") if backend == "postgresql" else None


@pytest.fixture
def app_settings(app_settings, replica, database_url):  # noqa: ANN001, ANN201
    """The app sends reports to the replica's copy of the test database."""
    if replica is not None:
        app_settings.database_replica_url = replica.url(make_url(database_url).database)
    return app_settings


@pytest.fixture
def standby(replica: LocalCluster, database_url: str) -> Iterator[Engine]:
    """A superuser connection to the replica, to pause and resume its replay."""
    eng = make_engine(replica.url(make_url(database_url).database),
                      isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    yield eng
    with eng.connect() as conn:
        conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
    eng.dispose()


@pytest.fixture
def world(db: Session, registry, engine: Engine, standby: Engine) -> World:  # noqa: ANN001
    built = build(db, registry)
    wait_for_replay(engine, standby)
    return built


def replica_reads() -> float:
    return REGISTRY.get_sample_value("stepwise_report_reads_total", {"database": "replica"}) or 0


def primary_reads() -> float:
    return REGISTRY.get_sample_value("stepwise_report_reads_total", {"database": "primary"}) or 0


def paused(standby: Engine) -> None:
    with standby.connect() as conn:
        conn.execute(sa.text("SELECT pg_wal_replay_pause()"))


def resumed(standby: Engine, engine: Engine) -> None:
    with standby.connect() as conn:
        conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
    wait_for_replay(engine, standby)


def overdue_total(client) -> int:  # noqa: ANN001
    response = client.get("/api/reports/dashboard")
    assert response.status_code == 200, response.text
    return response.json()["overdue_total"]


def test_reports_read_the_replica_and_a_reader_sees_their_own_write_at_once(
        db, engine, standby, world, client, login, csrf) -> None:
    login(client, world.bank.hr_a)
    wait_for_replay(engine, standby)  # the sign-in itself was a write of hr_a's
    before = replica_reads()
    assert overdue_total(client) == 7
    assert replica_reads() == before + 1

    paused(standby)
    # Someone else closes one overdue task on the primary: the replica does not know yet.
    task = world.tasks(db, world.p1)[0]
    task.status, task.closed_at = TaskStatus.done, clock.now()
    db.add(task)
    db.commit()
    assert overdue_total(client) == 7  # the replica answered: the old number
    listed = client.get("/api/reports/overdue").json()["total"]
    exported = client.get("/reports/overdue.csv").text.count("\r\n") - 1  # less the header
    assert listed == exported == 7

    # hr_a's own write (a reassignment, on the primary while the replica waits) ...
    group = world.group_task
    case = client.get(f"/api/instances/{group.instance_id}")  # the case as hr_a read it
    moved = client.post(f"/api/reports/tasks/{group.id}/reassign",
                        json={"to_person_id": world.bank.manager_a.id, "reason": "请假"},
                        headers={"X-CSRF-Token": csrf(client), "If-Match": case.headers["ETag"]})
    assert moved.status_code == 200, moved.text
    # ... is on hr_a's next report at once: read on the primary, with the other change too.
    board = client.get("/api/reports/dashboard").json()
    assert board["overdue_total"] == 6
    assert waiting_key(world.bank.manager_a.id, None, None, None) in {
        w["key"] for w in board["waiting"]}
    assert replica_reads() == before + 4

    resumed(standby, engine)
    assert overdue_total(client) == 6  # the replica has caught up and answers again
    assert replica_reads() == before + 5


def test_a_reader_without_writes_keeps_reading_the_replica_while_it_lags(
        db, engine, standby, world, client, login) -> None:
    login(client, world.bank.hr_a)
    wait_for_replay(engine, standby)
    assert overdue_total(client) == 7
    paused(standby)
    task = world.tasks(db, world.p1)[0]
    task.status, task.closed_at = TaskStatus.done, clock.now()
    db.add(task)
    db.commit()
    assert overdue_total(client) == 7
    page = client.get("/reports/dashboard")
    assert page.status_code == 200
    resumed(standby, engine)
    assert overdue_total(client) == 6


def test_reports_fall_back_to_the_primary_when_the_replica_is_down(
        app, engine, standby, world, client, login) -> None:
    app.state.replica_engine.dispose()
    app.state.replica_engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    login(client, world.bank.hr_a)
    before = primary_reads()
    assert overdue_total(client) == 7
    assert overdue_total(client) == 7  # the second one does not even try the replica
    assert primary_reads() == before + 2
    ready = client.get("/readyz").json()
    assert ready["checks"]["replica"] == "unreachable"


def test_an_api_token_reads_its_own_write_too(db, engine, standby, world, client, login,
                                              csrf) -> None:
    login(client, world.bank.hr_a)
    page = client.post("/account/tokens", data={"name": "reports", "scope": "write",
                                                "csrf_token": csrf(client)})
    token = {"Authorization": "Bearer " + re.search(
        r'<code id="new-token">([^<]+)</code>', page.text).group(1)}
    wait_for_replay(engine, standby)
    with TestClient(client.app, base_url="http://testserver") as script:
        assert script.get("/api/reports/dashboard", headers=token).json()["overdue_total"] == 7
        paused(standby)
        task = world.tasks(db, world.p1)[0]
        task.status, task.closed_at = TaskStatus.done, clock.now()
        db.add(task)
        db.commit()
        assert script.get("/api/reports/dashboard", headers=token).json()["overdue_total"] == 7
        case = script.get(f"/api/instances/{world.group_task.instance_id}", headers=token)
        moved = script.post(f"/api/reports/tasks/{world.group_task.id}/reassign",
                            headers={**token, "If-Match": case.headers["ETag"]},
                            json={"to_person_id": world.bank.manager_a.id, "reason": "请假"})
        assert moved.status_code == 200 and "set-cookie" not in moved.headers
        assert script.get("/api/reports/dashboard", headers=token).json()["overdue_total"] == 6
        resumed(standby, engine)


def test_pages_other_than_reports_never_touch_the_replica(
        engine, standby, world, client, login) -> None:
    login(client, world.bank.employee)
    before = replica_reads()
    assert client.get("/tasks").status_code == 200
    assert client.get(f"/plans/{world.p1.id}").status_code == 200
    assert replica_reads() == before
