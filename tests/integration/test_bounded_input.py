"""Bounded input through HTTP: one id type (ASCII digits, 1…2^31−1) in paths, forms and JSON;
finite numbers only; no control characters; upload limits enforced while the body streams."""

from __future__ import annotations

import asyncio
import re
import threading
import tracemalloc
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from app.plans import service
from app.plans.models import Evidence, Gap
from app.plans.schemas import GapDraft
from tests.factories import bank

HUGE = "9" * 5000
SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


@pytest.fixture
def plan_id(db: Session, people) -> int:
    plan = service.start_plan(db, employee=people.employee, initiator=people.employee,
                              title="报表迟报", gaps=[GapDraft(requirement="每月6日前报送",
                                                              actual="最早8日报送")])
    db.commit()
    return plan.id


@pytest.fixture
def employee(client, login, people, plan_id):  # noqa: ANN001, ANN201
    login(client, people.employee)
    return client


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_path_ids_beyond_the_key_range_or_not_ascii_digits_are_404(employee, plan_id) -> None:
    for bad in (HUGE, "9" * 20, str(2**31), SUPERSCRIPT_TWO, "٣", "0", "-1", "1_0", "%2B1"):
        for path in (f"/api/plans/{bad}", f"/plans/{bad}", f"/api/instances/{bad}/events",
                     f"/instances/{bad}", f"/mailbox/{bad}"):
            answer = employee.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert answer.text  # a readable message, never a traceback
    assert employee.get(f"/api/plans/{plan_id}").status_code == 200


def test_a_form_field_named_with_5000_digits_is_ignored_not_a_500(employee, plan_id) -> None:
    page = employee.get(f"/plans/{plan_id}")
    answer = employee.post(f"/plans/{plan_id}/review", data={
        "csrf_token": token(page.text), f"indicators-{HUGE}-indicator": "存款",
        f"indicators-{SUPERSCRIPT_TWO}-indicator": "存款"})
    assert answer.status_code < 500


def test_ids_in_forms_and_json_are_field_errors(employee, db, people, plan_id) -> None:
    page = employee.get("/plans/new")
    for bad in (SUPERSCRIPT_TWO, HUGE, "12abc"):
        answer = employee.post("/plans", data={
            "csrf_token": token(page.text), "employee_id": bad, "title": "新计划",
            "requirement": "要求", "actual": "实际"})
        assert answer.status_code == 422, bad
        assert "请从给出的选项中选择一项" in answer.text
    csrf = token(page.text)
    for bad in (SUPERSCRIPT_TWO, HUGE, 2**31, 2**63, -3, 1.5):
        answer = employee.post("/api/plans", json={"employee_id": bad, "title": "t"},
                               headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 422, bad
        assert answer.json()["detail"]
    applied = employee.post("/promotions/apply", data={
        "csrf_token": csrf, "scheme": "bocom_private_finance_2002",
        "person_id": SUPERSCRIPT_TWO, "target_title": "senior_cm"})
    assert applied.status_code == 422  # not oneself by default, not a 500


def test_bulk_task_ids_that_are_not_ids_are_refused(client, login, people, csrf) -> None:
    login(client, people.hr_a)
    answer = client.post("/reports/tasks/bulk", content=urlencode([
        ("csrf_token", csrf(client)), ("action", "remind"), ("task_ids", SUPERSCRIPT_TWO),
        ("task_ids", HUGE)]), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 422


def test_nan_infinity_and_1e999_are_refused_with_field_messages(employee, db, plan_id) -> None:
    csrf = token(employee.get(f"/plans/{plan_id}").text)
    for raw in ('NaN', 'Infinity', '-Infinity', '1e999'):
        answer = employee.post(
            f"/api/plans/{plan_id}/gaps",
            content=f'{{"requirement": "r", "actual": "a", "baseline": {raw}}}'.encode(),
            headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert answer.status_code == 422, raw
        assert "baseline" in answer.text
    for text in ("nan", "inf", "-Infinity", "1e999"):
        answer = employee.post(f"/plans/{plan_id}/gaps", data={
            "csrf_token": csrf, "requirement": "要求", "actual": "实际", "target": text})
        assert answer.status_code == 422, text
        assert "不是无穷大" in answer.text or "not infinite" in answer.text
    db.expire_all()
    assert len(db.exec(select(Gap).where(Gap.plan_id == plan_id)).all()) == 1


def test_nul_and_other_control_characters_are_refused_by_name(employee, db, plan_id) -> None:
    csrf = token(employee.get(f"/plans/{plan_id}").text)
    etag = employee.get(f"/api/plans/{plan_id}").headers["ETag"]
    answer = employee.post(f"/api/plans/{plan_id}/gaps", json={
        "requirement": "要求\x00", "actual": "实际"},
        headers={"X-CSRF-Token": csrf, "If-Match": etag})
    assert answer.status_code == 422
    assert "requirement" in answer.text and "控制字符" in answer.text  # the field, the reason
    assert "超出范围" not in answer.text  # not "a number is out of range"
    answer = employee.post(f"/plans/{plan_id}/gaps", data={
        "csrf_token": csrf, "requirement": "要求\x1b[31m", "actual": "实际"}, params={
            "lang": "en"})
    assert answer.status_code == 422 and "control character" in answer.text
    etag = employee.get(f"/api/plans/{plan_id}").headers["ETag"]
    kept = employee.post(f"/api/plans/{plan_id}/gaps", json={
        "requirement": "第一行\n第二行\t😀", "actual": "实际"},
        headers={"X-CSRF-Token": csrf, "If-Match": etag})
    assert kept.status_code in (200, 201), kept.text
    db.expire_all()
    assert len(db.exec(select(Gap).where(Gap.plan_id == plan_id)).all()) == 2


def test_a_thousand_files_are_refused_before_any_is_read(employee, db, app, plan_id) -> None:
    csrf = token(employee.get(f"/plans/{plan_id}").text)
    files = [("files", (f"e{i}.txt", b"x", "text/plain")) for i in range(1000)]
    for path in (f"/plans/{plan_id}/checkpoints/1/progress",
                 f"/api/plans/{plan_id}/checkpoints/1/evidence"):
        answer = employee.post(path, data={"csrf_token": csrf, "progress": "p"}, files=files,
                               headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 422, (path, answer.status_code)
        limit = app.state.settings.upload_max_files
        assert f"{limit}" in answer.text and ("files" in answer.text or "文件" in answer.text)
    assert db.exec(select(Evidence)).all() == []


def _post_streamed(app, path: str, headers: list[tuple[bytes, bytes]], total: int,
                   chunk: bytes) -> tuple[int, int, int]:
    """POST a body of `total` bytes to the app chunk by chunk, as a server would hand it over;
    the status, how many bytes the app pulled, and the peak memory traced meanwhile."""
    pulled, status = 0, 0
    boundary = b"--stepwise-test"
    head = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; '
            b'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 ')

    async def receive() -> dict:
        nonlocal pulled
        if pulled == 0:
            pulled = len(head)
            return {"type": "http.request", "body": head, "more_body": True}
        if pulled >= total:
            return {"type": "http.disconnect"}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pulled < total}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("testserver", 80),
             "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"testserver"),
                         (b"content-type", b"multipart/form-data; boundary=" + boundary),
                         *headers]}
    # A thread of its own: a test before this one may have left an event loop running here.
    worker = threading.Thread(target=lambda: asyncio.run(app(scope, receive, send)))
    tracemalloc.start()
    try:
        worker.start()
        worker.join()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return status, pulled, peak


def test_120_megabytes_are_refused_while_streaming_without_being_buffered(
        employee, app, plan_id) -> None:
    csrf = token(employee.get(f"/plans/{plan_id}").text)
    cookie = "; ".join(f"{k}={v}" for k, v in employee.cookies.items()).encode()
    headers = [(b"cookie", cookie), (b"x-csrf-token", csrf.encode())]
    limit = app.state.settings.upload_max_bytes
    chunk = b"\0" * (1024 * 1024)  # one buffer sent again and again: the test holds 1 MB
    status, pulled, peak = _post_streamed(
        app, f"/api/plans/{plan_id}/checkpoints/1/evidence", headers, 120 * 1024 * 1024, chunk)
    assert status == 413
    assert pulled <= limit + len(chunk)  # stopped reading as soon as the limit was passed
    assert peak < 16 * 1024 * 1024  # never held the body: spooled files and one chunk at most
    declared = [*headers, (b"content-length", str(120 * 1024 * 1024).encode())]
    status, pulled, _ = _post_streamed(
        app, f"/plans/{plan_id}/checkpoints/1/progress", declared, 120 * 1024 * 1024, chunk)
    assert status == 413 and pulled == 0  # a declared size over the limit: not a byte read
