"""A personal calendar feed (ICS) of every due date and checkpoint of one's open tasks.

The feed lives at a secret URL; only the token's SHA-256 is stored, so a leaked database does
not leak feeds. Each task is one all-day event with a stable UID. What the feed last said is
kept per person and task: a moved date bumps SEQUENCE and DTSTAMP, a task that closed (or went
to someone else) is sent once more as STATUS:CANCELLED, so calendar apps update in place.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, timedelta

import icalendar
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app import clock
from app.engine.calendar import local_date
from app.engine.models import Task
from app.engine.registry import Registry
from app.errors import NotFound
from app.i18n import gettext_for, pick_label
from app.notifications.action_links import hash_token
from app.org.models import Person
from app.reports.models import CalendarFeed, CalendarFeedEvent
from app.rows import insert_once
from app.tasks.service import my_tasks
from app.web.labels import person_name

TOKEN_BYTES = 32
KEEP_CANCELLED = timedelta(days=30)
UID_DOMAIN = "stepwise"
CHECKPOINT_KINDS = {"checkpoint_record": "Checkpoint: record progress",
                    "checkpoint_check": "Checkpoint: check progress"}


def active_feed(session: Session, person: Person) -> CalendarFeed | None:
    """The person's feed that still works, if any."""
    return session.exec(
        select(CalendarFeed).where(CalendarFeed.person_id == person.id,
                                   col(CalendarFeed.revoked_at).is_(None))
        .order_by(col(CalendarFeed.id).desc())
    ).first()


def revoke_feed(session: Session, person: Person) -> int:
    """Switch off every feed URL of the person; how many were active."""
    now = clock.now()
    feeds = list(session.exec(select(CalendarFeed).where(
        CalendarFeed.person_id == person.id, col(CalendarFeed.revoked_at).is_(None))))
    for feed in feeds:
        feed.revoked_at = now
    session.flush()
    return len(feeds)


def issue_feed(session: Session, person: Person) -> str:
    """A new secret feed token for the person (the old URL stops working); shown once."""
    revoke_feed(session, person)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(CalendarFeed(person_id=person.id, token_hash=hash_token(token)))
    session.flush()
    return token


def feed_owner(session: Session, token: str) -> Person:
    """Whose feed a token opens; unknown and revoked tokens do not exist."""
    feed = session.exec(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token or ""))
    ).first() if token and len(token) <= 200 else None
    person = session.get(Person, feed.person_id) if feed else None
    if feed is None or feed.revoked_at is not None or person is None or not person.active:
        raise NotFound("No such calendar feed.")
    feed.last_used_at = clock.now()
    return person


@dataclass
class FeedEvent:
    """One event of the feed as it is published now."""

    task: Task | None
    state: CalendarFeedEvent
    summary: str
    description: str
    url: str


def _uid(task_id: int) -> str:
    return f"task-{task_id}@{UID_DOMAIN}"


def sync_events(session: Session, person: Person, dated: dict[int, date]) -> list[
        CalendarFeedEvent]:
    """Bring the stored event states in line with the person's dated open tasks."""
    now = clock.now()
    stored = {e.task_id: e for e in session.exec(
        select(CalendarFeedEvent).where(CalendarFeedEvent.person_id == person.id))}
    for task_id, due_on in dated.items():
        if task_id not in stored:
            insert_once(session, CalendarFeedEvent, {
                "key": f"p{person.id}:t{task_id}", "person_id": person.id, "task_id": task_id,
                "due_on": due_on, "sequence": 0, "stamped_at": now}, key="key")
            continue
        event = stored[task_id]
        if event.due_on != due_on or event.cancelled_at is not None:
            event.due_on = due_on
            event.sequence += 1
            event.stamped_at = now
            event.cancelled_at = None
    for task_id, event in stored.items():
        if task_id not in dated and event.cancelled_at is None:
            event.cancelled_at = now
            event.sequence += 1
            event.stamped_at = now
    session.execute(delete(CalendarFeedEvent).where(
        CalendarFeedEvent.person_id == person.id,
        col(CalendarFeedEvent.cancelled_at) < now - KEEP_CANCELLED))
    session.flush()
    return list(session.exec(
        select(CalendarFeedEvent).where(CalendarFeedEvent.person_id == person.id)
        .order_by(CalendarFeedEvent.due_on, CalendarFeedEvent.task_id)))


def feed_events(session: Session, person: Person, registry: Registry, base_url: str
                ) -> list[FeedEvent]:
    """The feed's events: open tasks with a due date, and recently closed ones cancelled."""
    locale = person.locale if person.locale in ("zh_CN", "en") else "zh_CN"
    gettext = gettext_for(locale)
    tasks = {item.task.id: item for item in my_tasks(db_session=session, person=person)
             if item.task.due_at is not None}
    dated = {task_id: local_date(item.task.due_at) for task_id, item in tasks.items()}
    states = sync_events(session, person, dated)
    subjects = {p.id: p for p in session.exec(select(Person).where(
        col(Person.id).in_({item.instance.subject_id for item in tasks.values()})))}
    events = []
    for state in states:
        item = tasks.get(state.task_id)
        if item is None:
            events.append(FeedEvent(None, state, gettext("Cancelled"), "", ""))
            continue
        spec = registry.compiled(session, item.instance.definition_id).spec
        step = spec.states.get(item.task.state)
        what = (gettext(CHECKPOINT_KINDS[item.task.kind]) if item.task.kind in CHECKPOINT_KINDS
                else pick_label(step.label, locale) if step else item.task.state)
        title = item.instance.title or pick_label(spec.label, locale)
        who = person_name(subjects.get(item.instance.subject_id), locale)
        summary = f"{what}: {title}" + (f" ({who})" if who else "")
        url = f"{base_url.rstrip('/')}/instances/{item.instance.id}"
        description = f"{pick_label(spec.label, locale)}\n{url}"
        events.append(FeedEvent(item.task, state, summary, description, url))
    return events


def feed_ics(session: Session, person: Person, registry: Registry, base_url: str) -> bytes:
    """The person's feed as an iCalendar file."""
    locale = person.locale if person.locale in ("zh_CN", "en") else "zh_CN"
    gettext = gettext_for(locale)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Stepwise//Stepwise deadlines//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", gettext("Stepwise: my due dates"))
    cal.add("x-published-ttl", "PT1H")
    for item in feed_events(session, person, registry, base_url):
        event = icalendar.Event()
        event.add("uid", _uid(item.state.task_id))
        event.add("dtstamp", item.state.stamped_at.astimezone(UTC))
        event.add("dtstart", item.state.due_on)
        event.add("dtend", item.state.due_on + timedelta(days=1))
        event.add("sequence", item.state.sequence)
        event.add("summary", item.summary)
        event.add("transp", "TRANSPARENT")
        if item.task is None:
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED")
            event.add("description", item.description)
            event.add("url", item.url)
        cal.add_component(event)
    return cal.to_ical()
