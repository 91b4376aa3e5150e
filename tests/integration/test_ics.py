"""The personal ICS feed, parsed with icalendar: stable UIDs, moved dates, cancellations,
and a secret URL that can be revoked or replaced."""

from __future__ import annotations

import re
from datetime import date, timedelta

import icalendar
import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import calendar
from app.engine.models import Task
from app.reports import ics
from app.reports.models import CalendarFeed
from tests.report_helpers import DUE_1, DUE_4, World, build


@pytest.fixture
def world(db: Session, registry) -> World:
    return build(db, registry)


def events(content: bytes) -> dict[str, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(content)
    return {str(e["UID"]): e for e in parsed.walk("VEVENT")}


def feed_path(client, csrf) -> str:  # noqa: ANN001
    page = client.post("/reports/my-calendar/issue", data={"csrf_token": csrf(client)})
    assert page.status_code == 200
    url = re.search(r'value="(http[^"]+\.ics)"', page.text).group(1)
    return url.removeprefix("http://127.0.0.1:8000")


def test_feed_lists_every_dated_open_task_of_the_person(db, world, client, login, csrf):
    login(client, world.bank.colleague)
    path = feed_path(client, csrf)
    client.cookies.clear()  # calendar apps do not sign in: the URL is the key
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    found = events(response.content)
    mine = [t for t in world.tasks(db, world.p2) if t.assignee_id == world.bank.colleague.id]
    assert set(found) == {f"task-{t.id}@stepwise" for t in mine}
    first = found[f"task-{mine[0].id}@stepwise"]
    assert first.decoded("DTSTART") == DUE_4
    assert int(first["SEQUENCE"]) == 0 and str(first["STATUS"]) == "CONFIRMED"
    assert "服务态度生硬" in str(first["SUMMARY"])


def test_uids_stay_and_a_moved_date_updates_the_event(db, world, client, login, csrf):
    login(client, world.bank.employee)
    path = feed_path(client, csrf)
    before = events(client.get(path).content)
    again = events(client.get(path).content)
    assert set(before) == set(again)
    assert all(int(e["SEQUENCE"]) == 0 for e in again.values())
    task = next(t for t in world.tasks(db, world.p1) if t.assignee_id == world.bank.employee.id)
    uid = f"task-{task.id}@stepwise"
    assert before[uid].decoded("DTSTART") == DUE_1
    clock.advance(timedelta(hours=2))
    task.due_at = calendar.end_of_day(date(2026, 11, 25))
    db.commit()
    moved = events(client.get(path).content)[uid]
    assert moved.decoded("DTSTART") == date(2026, 11, 25)
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTAMP") > before[uid].decoded("DTSTAMP")


def test_a_closed_task_is_sent_as_cancelled(db, world, client, login, csrf):
    login(client, world.bank.employee)
    path = feed_path(client, csrf)
    task = next(t for t in world.tasks(db, world.p1) if t.assignee_id == world.bank.employee.id)
    uid = f"task-{task.id}@stepwise"
    assert str(events(client.get(path).content)[uid]["STATUS"]) == "CONFIRMED"
    task.status = "done"
    task.closed_at = clock.now()
    db.commit()
    cancelled = events(client.get(path).content)[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 1
    assert int(events(client.get(path).content)[uid]["SEQUENCE"]) == 1  # said once, not again
    clock.advance(timedelta(days=31))
    assert uid not in events(client.get(path).content)


def test_revoked_and_replaced_feed_urls_are_404(db, world, client, login, csrf):
    login(client, world.bank.employee)
    first = feed_path(client, csrf)
    second = feed_path(client, csrf)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    client.post("/reports/my-calendar/revoke", data={"csrf_token": csrf(client)})
    assert client.get(second).status_code == 404
    assert client.get("/reports/feed/not-a-token.ics").status_code == 404


def test_only_the_token_hash_is_stored(db, world):
    token = ics.issue_feed(db, world.bank.employee)
    db.commit()
    stored = db.exec(select(CalendarFeed)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert ics.feed_owner(db, token).id == world.bank.employee.id


def test_hr_feed_carries_the_tasks_of_their_role(db, world, registry):
    content = ics.feed_ics(db, world.bank.hr_a, registry, "https://stepwise.bank.test")
    found = events(content)
    assert f"task-{world.group_task.id}@stepwise" in found
    assert str(found[f"task-{world.group_task.id}@stepwise"]["URL"]).startswith(
        "https://stepwise.bank.test/instances/")
    assert db.exec(select(Task).where(Task.id == world.group_task.id)).one().status == "open"
