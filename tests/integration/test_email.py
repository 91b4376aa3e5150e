"""Email: the reader's language, the built-in mailbox, and delivery that loses nothing and
never sends twice: server down, two schedulers at once, a run killed midway."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.db import make_engine
from app.engine import runtime
from app.notifications.delivery import LOCK_SPACE, claim
from app.notifications.mailer import SmtpMailer, mailer_for
from app.notifications.models import MessageStatus, OutboxMessage
from app.reminders.firing import fire_due_timers
from app.reminders.models import ReminderTimer, TimerStatus
from app.reminders.sweep import sweep
from tests.factories import person
from tests.reminder_helpers import CHECKPOINT_WORKFLOWS, at
from tests.smtp_sink import SmtpSink

DAY = date(2026, 3, 3)  # Tuesday: the before-due reminders of cases started on Monday


@pytest.fixture
def workflows_dir() -> Path:
    return CHECKPOINT_WORKFLOWS




def start_checks(db: Session, org, count: int = 1) -> list[str]:
    """Cases for `count` employees of sub-branch A started on Monday; their addresses."""
    at(date(2026, 3, 2))
    addresses = []
    for i in range(count):
        subject = org.employee if i == 0 else person(db, org.sub_a, supervisor=org.manager_a)
        runtime.start(db, workflow="checkpoint_check", subject=subject, title=f"检查点{i}")
        addresses.append(subject.email)
    db.commit()
    return addresses


def message_ids(sink: SmtpSink) -> Counter[str]:
    return Counter(r.message["Message-ID"] for r in sink.received)


def test_each_person_reads_the_mail_in_their_own_language_as_text_and_html(
        db, engine, registry, org, sink) -> None:
    start_checks(db, org)  # the employee (Chinese) is reminded to record the evidence
    other = runtime.start(db, workflow="checkpoint_check", subject=org.colleague, title="检查点X")
    runtime.fire(db, other, "record_evidence", org.colleague, {})
    org.manager_a.locale = "en"  # the supervisor reads English and is reminded to check
    db.commit()
    sweep(engine, at(DAY), settings=sink.settings(), registry=registry)

    [chinese] = sink.to(org.employee.email)
    assert chinese.message["Subject"] == "提醒：检查点0（张三） 将于 2026年3月4日 到期"
    assert "提交佐证材料：http://stepwise.test/act/" in chinese.text  # the reader's colon
    assert "打开事项：http://stepwise.test/" in chinese.text
    [english] = sink.to(org.manager_a.email)
    assert english.message["Subject"] == "Reminder: 检查点X (李四) is due on March 4, 2026"
    assert english.message.get_content_type() == "multipart/alternative"
    assert "Confirm the check: http://stepwise.test/act/" in english.text
    assert "Open the case: http://stepwise.test/" in english.text
    assert re.search(r'<a href="http://stepwise\.test/act/[\w-]+"', english.html)


def test_the_demo_mailbox_shows_mail_only_to_its_recipient_and_by_need_to_know(
        db, engine, registry, app, app_settings, org, client, login, csrf) -> None:
    app_settings.demo_mode = True  # no SMTP host: the demo's built-in mailbox keeps the mail
    start_checks(db, org)
    report = sweep(engine, at(DAY), settings=app_settings, registry=registry)
    assert report.sent == 1
    [kept] = db.exec(select(OutboxMessage)).all()
    assert (kept.status, kept.transport, kept.recipient_id) == (
        MessageStatus.sent, "mailbox", org.employee.id)
    live = re.compile(r'<a href="http://127\.0\.0\.1:8000/act/[\w-]{20,}">')

    def page_as(person) -> tuple[str, int]:
        client.cookies.clear()
        login(client, person)
        listing = client.get("/mailbox")
        assert listing.status_code == 200
        opened = client.get(f"/mailbox/{kept.id}")
        return listing.text + opened.text, opened.status_code

    text, status = page_as(org.employee)  # the recipient: the live link
    assert status == 200 and kept.subject in text and live.search(text)
    text, status = page_as(org.manager_a)  # the supervisor may see the case: no usable link
    assert status == 200 and kept.subject in text and not live.search(text)
    assert "/act/…" in text
    for outsider in (org.admin, org.colleague, org.hr_b):  # nothing to know here
        text, status = page_as(outsider)
        assert status == 404 and kept.subject not in text


def test_at_night_the_mailbox_says_the_mail_waits_for_the_morning(
        db, engine, registry, app_settings, org, client, login) -> None:
    org.employee.name_en = "Zhang San"
    org.employee.locale = "en"  # reads English, looks at the Chinese page
    app_settings.demo_mode = True  # the mailbox is a demo device; each reads their own mail
    start_checks(db, org)
    night = sweep(engine, at(DAY, 22, 30), settings=app_settings, registry=registry)
    assert night.sent == 0 and db.exec(select(OutboxMessage)).all()  # made, held back
    login(client, org.employee)

    waiting = client.get("/mailbox?lang=en").text
    assert "It is quiet hours (21:00–08:00): no mail is sent at night." in waiting
    assert "1 message waits and will arrive here after 08:00." in waiting
    assert "还没有邮件" in client.get("/mailbox?lang=zh_CN").text

    sweep(engine, at(DAY + timedelta(days=1), 8, 5), settings=app_settings, registry=registry)
    login(client, org.employee)  # a new day, a new session
    morning = client.get("/mailbox?lang=zh_CN").text
    assert "夜间到期的提醒会在早上送达这里" in morning and "现在是免打扰时段" not in morning
    to_column = re.findall(r"<td>([^<&]+) &lt;", morning)
    assert to_column == ["张三"]  # the page names people in its language (the mail, in theirs)


def test_while_the_mail_server_is_down_nothing_is_lost_and_nothing_sent_twice(
        db, engine, registry, app, org, sink, client, login) -> None:
    addresses = start_checks(db, org, count=3)
    settings = sink.settings(smtp_retry_base_seconds=60)
    sink.stop()
    first = sweep(engine, at(DAY, 9), settings=settings, registry=registry)
    assert (first.sent, first.retried) == (0, 3)
    login(client, org.hr_a)
    problems = client.get("/outbox/failures?lang=en")
    assert "ConnectionRefusedError" in problems.text
    assert sweep(engine, at(DAY, 9, 0), settings=settings, registry=registry).retried == 0

    second = sweep(engine, at(DAY, 9, 1), settings=settings, registry=registry)
    assert second.retried == 3  # after the first pause (60 s) the next one is 120 s
    sink.start()
    assert sweep(engine, at(DAY, 9, 2), settings=settings, registry=registry).sent == 0
    assert sweep(engine, at(DAY, 9, 3), settings=settings, registry=registry).sent == 3
    sweep(engine, at(DAY, 10), settings=settings, registry=registry)

    assert sorted(r.to for r in sink.received) == sorted(addresses)
    assert set(message_ids(sink).values()) == {1}
    rows = db.exec(select(OutboxMessage)).all()
    assert {(m.status, m.attempts) for m in rows} == {(MessageStatus.sent, 2)}
    assert "ConnectionRefusedError" not in client.get("/outbox/failures?lang=en").text


def test_a_refused_address_is_shown_to_hr_and_sent_again_on_request(
        db, engine, registry, app, org, sink, client, login) -> None:
    start_checks(db, org)
    sink.refuse.add(org.employee.email)
    settings = sink.settings()
    assert sweep(engine, at(DAY), settings=settings, registry=registry).failed == 1
    [row] = db.exec(select(OutboxMessage)).all()
    assert row.status == MessageStatus.failed and "550" in row.last_error

    login(client, org.hr_a)
    page = client.get("/outbox/failures?lang=en")
    assert "refused" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    sink.refuse.clear()
    client.post(f"/outbox/{row.id}/retry", data={"csrf_token": csrf})
    assert sweep(engine, at(DAY, 11), settings=settings, registry=registry).sent == 1
    assert [r.to for r in sink.received] == [org.employee.email]


def test_two_schedulers_at_once_send_each_message_once(
        db, database_url, registry, org, sink) -> None:
    addresses = start_checks(db, org, count=12)
    settings = sink.settings(sweep_batch_size=3)
    engines = [make_engine(database_url) for _ in range(2)]
    now = at(DAY)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    sent: list[int] = []

    def scheduler(engine) -> None:
        try:
            barrier.wait()
            sent.append(sweep(engine, now, settings=settings, registry=registry).sent)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert sum(sent) == len(addresses)
    assert sorted(r.to for r in sink.received) == sorted(addresses)
    assert set(message_ids(sink).values()) == {1}
    # each task's timer fired once and armed its next rung once: the day's reminder is done,
    # tomorrow's on-due reminder is the one pending row
    db.expire_all()
    timers = db.exec(select(ReminderTimer)).all()
    assert Counter((t.kind, t.status) for t in timers) == {
        ("before_due", TimerStatus.done): len(addresses),
        ("on_due", TimerStatus.pending): len(addresses)}


class Killed(BaseException):
    """The process dies (not an error the sweep could handle)."""


def dies_after(sends: int):
    """A mailer factory whose process is killed after `sends` messages went out."""
    count = {"sent": 0}

    class DyingMailer(SmtpMailer):
        def send(self, message: EmailMessage) -> None:
            if count["sent"] == sends:
                raise Killed()
            super().send(message)
            count["sent"] += 1

    return lambda settings: DyingMailer(settings)


def test_a_sweep_killed_midway_is_completed_by_the_next_run(
        db, engine, registry, org, sink) -> None:
    addresses = start_checks(db, org, count=5)
    settings = sink.settings()
    with pytest.raises(Killed):
        sweep(engine, at(DAY), settings=settings, registry=registry,
              mailer_factory=dies_after(2))
    assert len(sink.received) == 2
    sweep(engine, at(DAY, 10, 1), settings=settings, registry=registry)
    assert sorted(r.to for r in sink.received) == sorted(addresses)
    assert set(message_ids(sink).values()) == {1}


def test_a_message_held_by_a_dead_scheduler_goes_out_once_its_hold_is_gone(
        db, engine, backend, registry, org, sink) -> None:
    addresses = start_checks(db, org, count=3)
    settings = sink.settings(outbox_lease_seconds=300)
    now = at(DAY)
    fire_due_timers(engine, now, registry=registry, digest_default=False)
    dying = Session(engine, expire_on_commit=False)  # a scheduler that will die mid-send
    if backend == "sqlite":
        dying.connection().exec_driver_sql("BEGIN IMMEDIATE")
    held = claim(dying, now, settings, registry, "dead-host:1:1", True, lease=backend == "sqlite")
    if backend == "sqlite":
        dying.commit()  # SQLite: a lease in the row; the write lock is never held while sending
    assert sweep(engine, at(DAY, 10, 1), settings=settings, registry=registry).sent == 2
    assert held.to_address not in [r.to for r in sink.received]
    dying.close()  # PostgreSQL: the dead process's connection ends and its row lock with it
    later = at(DAY, 10, 2) if backend == "postgresql" else at(DAY, 10, 6)
    assert sweep(engine, later, settings=settings, registry=registry).sent == 1
    assert sorted(r.to for r in sink.received) == sorted(addresses)
    assert set(message_ids(sink).values()) == {1}


def test_a_message_another_scheduler_is_sending_is_left_to_it(
        db, engine, backend, registry, org, sink) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite holds a message by its lease (the test above)")
    addresses = start_checks(db, org, count=3)
    settings = sink.settings()
    now = at(DAY)
    fire_due_timers(engine, now, registry=registry, digest_default=False)
    first = db.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
    # another scheduler's connection holds this message while it talks to its mail server
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(CAST(:space AS integer), :id)"),
                      {"space": LOCK_SPACE, "id": first.id})
        assert sweep(engine, at(DAY, 10, 1), settings=settings, registry=registry).sent == 2
        assert first.to_address not in [r.to for r in sink.received]
        other.execute(text("SELECT pg_advisory_unlock_all()"))
        other.commit()
    assert sweep(engine, at(DAY, 10, 2), settings=settings, registry=registry).sent == 1
    assert sorted(r.to for r in sink.received) == sorted(addresses)
    assert set(message_ids(sink).values()) == {1}


def test_a_server_outage_leaves_the_message_another_scheduler_is_sending_to_it(
        db, engine, backend, registry, org, sink) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite holds a message by its lease")
    start_checks(db, org, count=3)
    settings = sink.settings(smtp_retry_base_seconds=60)
    now = at(DAY)
    fire_due_timers(engine, now, registry=registry, digest_default=False)
    first = db.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
    sink.stop()
    with engine.connect() as other:  # its scheduler is talking to a server that still answers
        other.execute(text("SELECT pg_advisory_lock(CAST(:space AS integer), :id)"),
                      {"space": LOCK_SPACE, "id": first.id})
        assert sweep(engine, at(DAY, 10, 1), settings=settings, registry=registry).retried == 2
        other.execute(text("SELECT pg_advisory_unlock_all()"))
        other.commit()
    db.expire_all()
    attempts = {m.id: m.attempts for m in db.exec(select(OutboxMessage))}
    assert attempts.pop(first.id) == 0
    assert set(attempts.values()) == {1}


def test_a_reminder_backlog_is_fired_in_rounds_with_the_mail_sent_between(
        db, engine, registry, org, sink) -> None:
    addresses = start_checks(db, org, count=5)
    settings = sink.settings(sweep_batch_size=1, sweep_round_size=2)
    still_due_at_each_delivery: list[int] = []

    def mailer_noting_the_backlog(settings):  # noqa: ANN001, ANN202 - the real SMTP mailer
        with Session(engine) as session:
            still_due_at_each_delivery.append(len(session.exec(select(ReminderTimer.id).where(
                ReminderTimer.status == TimerStatus.pending,
                ReminderTimer.due_at <= at(DAY, 10))).all()))
        return mailer_for(settings)

    report = sweep(engine, at(DAY, 10), settings=settings, registry=registry,
                   mailer_factory=mailer_noting_the_backlog)
    # the first mail went out while three of the five reminders were still to be fired
    assert still_due_at_each_delivery[0] == 3
    assert still_due_at_each_delivery[-1] == 0
    assert report.sent == 5
    assert sorted(r.to for r in sink.received) == sorted(addresses)
    assert set(message_ids(sink).values()) == {1}
