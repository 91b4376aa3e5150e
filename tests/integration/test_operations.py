"""What a bank's operators watch: /healthz, /readyz, /metrics, JSON logs and request ids."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from app import clock
from app.auth.reset import resolve_requests
from app.config import Settings
from app.db import make_engine, transaction
from app.engine import runtime
from app.engine.models import AuditEvent
from app.main import create_app
from app.migrations import runner
from app.notifications.delivery import deliver_outbox
from app.notifications.models import OutboxMessage
from app.observability.batches import scheduler_name
from app.observability.logs import configure_logging
from app.observability.metrics import exposition
from app.observability.models import SchedulerHeartbeat
from app.reminders.jobs import run_sweep
from tests.conftest import WEB_SECRET
from tests.plan_journey import Api, draft_and_propose
from tests.reminder_helpers import at

PROJECT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-tests"
MORNING = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, outside quiet hours

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of /metrics, parsed with prometheus-client's own parser."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app_settings(app_settings):  # noqa: ANN001, ANN201
    app_settings.metrics_token = TOKEN
    return app_settings


# --- health and readiness --------------------------------------------------------------------

def test_healthz_answers_without_database_or_sign_in(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "set-cookie" not in response.headers


def test_readyz_turns_unready_when_the_database_stops(scratch_pg, tmp_path: Path) -> None:
    admin = make_engine(scratch_pg.url("postgres"), isolation_level="AUTOCOMMIT",
                        poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE stepwise_ready"))
    url = scratch_pg.url("stepwise_ready")
    app = create_app(Settings(environment="test", database_url=url, secret_key=WEB_SECRET,
                              var_dir=tmp_path / "var", scheduler_enabled=False))
    probe = TestClient(app, base_url="http://testserver")  # no lifespan: just the probe
    try:
        behind = probe.get("/readyz")
        assert behind.status_code == 503
        assert behind.json()["checks"] == {"database": "ok", "migrations": "behind",
                                           "scheduler": "off"}
        runner.upgrade(url)
        assert probe.get("/readyz").status_code == 200
        scratch_pg.stop()
        down = probe.get("/readyz")
        assert down.status_code == 503
        assert down.json() == {"status": "unready", "checks": {
            "database": "unreachable", "migrations": "unknown", "scheduler": "unknown"}}
        scratch_pg.start()
        ready = probe.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    finally:
        app.state.engine.dispose()
        admin.dispose()


def test_readyz_watches_the_heartbeat_of_this_process_scheduler(
        db, engine, app_settings, registry, org) -> None:
    clock.freeze(MORNING)
    app_settings.scheduler_enabled = True
    app = create_app(app_settings, engine)
    probe = TestClient(app, base_url="http://testserver")  # no lifespan: no scheduler thread

    def scheduler() -> str:
        return probe.get("/readyz").json()["checks"]["scheduler"]

    assert scheduler() == "ok"  # just started: the first sweep is still to come
    clock.advance(timedelta(seconds=app_settings.scheduler_stale_after + 1))
    assert scheduler() == "stale" and probe.get("/readyz").status_code == 503
    run_sweep(engine, app_settings, registry)
    assert scheduler() == "ok"
    beat = db.get(SchedulerHeartbeat, scheduler_name())
    assert beat is not None and beat.last_success_at == clock.now()
    clock.advance(timedelta(seconds=app_settings.scheduler_stale_after + 1))
    assert scheduler() == "stale"


# --- metrics ---------------------------------------------------------------------------------

def test_metrics_need_the_token_or_an_allowed_network(app) -> None:
    settings = app.state.settings
    with ExitStack() as stack:
        inside = stack.enter_context(TestClient(app, client=("10.1.2.3", 40000)))
        outside = stack.enter_context(TestClient(app, client=("192.0.2.9", 40000)))
        assert outside.get("/metrics").status_code == 401
        wrong = outside.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
        assert outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
                           ).status_code == 200
        settings.metrics_token = ""
        assert inside.get("/metrics").status_code == 403
        settings.metrics_networks = ["10.1.0.0/16"]
        assert inside.get("/metrics").status_code == 200
        assert outside.get("/metrics").status_code == 403


@pytest.fixture
def sign_in(app, login, csrf):  # noqa: ANN001, ANN201
    """sign_in(person) -> an Api for that person (each its own client)."""
    with ExitStack() as stack:

        def _sign_in(person) -> Api:  # noqa: ANN001
            client = stack.enter_context(TestClient(app, base_url="http://testserver"))
            login(client, person)
            return Api(client, csrf(client))

        yield _sign_in


def new_plan(me: Api) -> dict:
    return me("POST", "/api/plans", expect=201, json={
        "title": "服务态度生硬", "gaps": [{
            "requirement": "客户评价满意率不低于95%", "actual": "多次被客户评价服务态度差",
            "metric": "满意率", "unit": "%", "baseline": 82, "target": 95,
            "source": "customer_evaluation"}]})


def test_metrics_move_after_a_sign_off_and_a_reminder_batch(
        db, engine, registry, org, sink, client, sign_in) -> None:
    before = scrape(client)
    me, boss = sign_in(org.employee), sign_in(org.manager_a)
    plan = draft_and_propose(db, me, boss, new_plan(me))
    me("POST", f"/api/plans/{plan['id']}/actions/sign", json={"payload": {}})
    signed = scrape(client)
    sign = {"workflow": "improvement_plan", "trigger": "sign"}
    assert value(signed, "stepwise_workflow_actions_total", **sign) == value(
        before, "stepwise_workflow_actions_total", **sign) + 1
    route = {"method": "POST", "route": "/api/plans/{plan_id}/actions/{trigger}"}
    assert value(signed, "stepwise_http_requests_total", status="200", **route) >= value(
        before, "stepwise_http_requests_total", status="200", **route) + 6
    assert value(signed, "stepwise_http_request_duration_seconds_count", **route) > 0

    # A case nobody touches, and one scheduler batch weeks later: reminders by SMTP.
    at(date(2027, 1, 25))
    runtime.start(db, workflow="improvement_plan", subject=org.colleague, title="报表迟报")
    db.commit()
    at(date(2027, 2, 18))
    report = run_sweep(engine, sink.settings(), registry)
    assert report is not None and report.queued > 0 and report.sent == len(sink.received) > 0
    after = scrape(client)
    assert value(after, "stepwise_reminders_due_total") == value(
        signed, "stepwise_reminders_due_total") + report.queued
    assert value(after, "stepwise_mail_messages_total", outcome="sent") == value(
        signed, "stepwise_mail_messages_total", outcome="sent") + report.sent
    assert value(after, "stepwise_scheduler_sweeps_total", outcome="ok") == value(
        signed, "stepwise_scheduler_sweeps_total", outcome="ok") + 1
    assert value(after, "stepwise_scheduler_sweep_duration_seconds_count") == value(
        signed, "stepwise_scheduler_sweep_duration_seconds_count") + 1
    assert value(after, "stepwise_scheduler_last_success_timestamp_seconds",
                 worker=scheduler_name()) == clock.now().timestamp()
    assert value(after, "stepwise_outbox_pending_messages") == 0
    assert value(after, "stepwise_database_up") == 1
    # The batch's id travelled into each message's header.
    ids = {m.message["X-Request-ID"] for m in sink.received}
    assert len(ids) == 1 and ids.pop().startswith("sweep-")


def test_outbox_and_overdue_gauges_come_from_the_database(
        db, app, engine, registry, org, client) -> None:
    from app.reports.snapshots import run_overdue_snapshot

    at(date(2027, 1, 25))
    runtime.start(db, workflow="improvement_plan", subject=org.employee, title="报表迟报")
    db.commit()
    at(date(2027, 2, 18), hour=22)  # quiet hours: reminders are queued, not sent
    run_sweep(engine, app.state.settings, registry)
    run_overdue_snapshot(engine)
    samples = scrape(client)
    pending = db.exec(select(OutboxMessage)).all()
    assert value(samples, "stepwise_outbox_pending_messages") == len(pending) > 0
    oldest = min(m.send_after for m in pending)
    assert value(samples, "stepwise_outbox_oldest_pending_age_seconds") == (
        clock.now() - oldest).total_seconds() > 0
    assert value(samples, "stepwise_overdue_tasks", branch=org.branch_a.code) == 2
    assert value(samples, "stepwise_overdue_snapshot_timestamp_seconds") == (
        clock.now().timestamp())


def test_metrics_of_several_worker_processes_are_summed(tmp_path: Path) -> None:
    worker = ("from app.observability.metrics import HTTP_REQUESTS; "
              "HTTP_REQUESTS.labels('GET', '/from-a-worker', '200').inc(3)")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin"}
    workers = [subprocess.Popen([sys.executable, "-c", worker], cwd=PROJECT, env=env)
               for _ in range(2)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0]
    settings = Settings(environment="test", prometheus_multiproc_dir=str(tmp_path))
    text = exposition(settings, make_engine("sqlite://")).decode()
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert value(samples, "stepwise_http_requests_total", method="GET",
                 route="/from-a-worker", status="200") == 6
    assert value(samples, "stepwise_database_up") == 0  # an empty database: no tables


# --- request ids and logs --------------------------------------------------------------------

@pytest.fixture
def json_log(app) -> Iterator[io.StringIO]:  # noqa: ANN001
    """The app's log lines, as JSON, in a buffer."""
    buffer = io.StringIO()
    settings = app.state.settings.model_copy(update={"log_format": "json"})
    configure_logging(settings, stream=buffer)
    yield buffer
    configure_logging(app.state.settings)


def log_lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_each_request_has_an_id_in_its_answer_its_audit_event_and_its_log_line(
        db, org, sign_in, json_log) -> None:
    me = sign_in(org.employee)
    response = me.client.post("/api/plans", headers={"X-CSRF-Token": me.token}, json={
        "title": "服务态度生硬", "gaps": [{
            "requirement": "满意率不低于95%", "actual": "多次被评价服务态度差", "metric": "满意率",
            "unit": "%", "baseline": 82, "target": 95, "source": "customer_evaluation"}]})
    assert response.status_code == 201
    request_id = response.headers["X-Request-ID"]
    event = db.exec(select(AuditEvent).where(
        AuditEvent.instance_id == response.json()["instance_id"])).one()
    assert event.request_id == request_id
    lines = [line for line in log_lines(json_log) if line.get("request_id") == request_id]
    request_line = next(line for line in lines if line["logger"] == "stepwise.request")
    assert request_line["route"] == "/api/plans" and request_line["status"] == 201
    assert request_line["person_id"] == org.employee.id and request_line["duration_ms"] >= 0
    assert request_line["level"] == "INFO" and "time" in request_line
    assert "服务态度" not in json_log.getvalue()  # no personal content in the logs


def test_a_plain_id_from_the_proxy_is_kept_and_others_are_replaced(client) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "gw-7f3a9c"})
    assert kept.headers["X-Request-ID"] == "gw-7f3a9c"
    for odd in ("two words", "quote\"", "x" * 65):
        answered = client.get("/healthz", headers={"X-Request-ID": odd}).headers["X-Request-ID"]
        assert answered != odd and len(answered) == 24, odd
    assert client.get("/healthz").headers["X-Request-ID"] != client.get(
        "/healthz").headers["X-Request-ID"]


def test_a_mail_carries_the_id_of_the_request_that_caused_it(
        db, engine, registry, org, client, csrf, sink) -> None:
    clock.freeze(MORNING)
    mail = sink.settings()  # reset links go only through a mail server
    client.app.state.settings.smtp_host, client.app.state.settings.smtp_port = (
        mail.smtp_host, mail.smtp_port)
    forgot = client.post("/password/forgot", data={"username": org.employee.employee_no,
                                                   "csrf_token": csrf(client)})
    assert forgot.status_code == 200
    # the sweep turns the request into its mail later; the mail keeps the asking request's id
    with transaction(engine) as session:
        assert resolve_requests(session, now=clock.now()) == 1
    queued = db.exec(select(OutboxMessage)).one()
    assert queued.request_id == forgot.headers["X-Request-ID"]
    deliver_outbox(engine, clock.now(), settings=sink.settings(), registry=registry)
    assert [m.message["X-Request-ID"] for m in sink.received] == [queued.request_id]


def test_an_unexpected_error_still_answers_with_its_request_id(app, client, json_log) -> None:
    @app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as other:
        response = other.get("/boom-for-test")
    assert response.status_code == 500 and response.headers["X-Request-ID"]
    lines = [line for line in log_lines(json_log)
             if line.get("request_id") == response.headers["X-Request-ID"]]
    assert {line["logger"] for line in lines} >= {"stepwise.web", "stepwise.request"}

