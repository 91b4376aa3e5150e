"""What a reminder or an escalation says, decided when it is sent: the task's topic (its step, or
a domain's item such as a checkpoint), where its deadline stands today, and the links that take
exactly that task's action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.config import Settings
from app.engine import calendar
from app.engine.calendar import local_date
from app.engine.definitions import WorkflowSpec
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.engine.topics import TaskTopic, step_key, topic_key, topic_of
from app.i18n import N_, Gettext, Message, pick_label
from app.notifications import action_links
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from app.org.models import Person
from app.reminders.plan import Phase, phase_on
from app.reminders.recipients import Directory, task_people, task_recipients

# Subject lines by where the deadline stands when the mail is sent.
SUBJECTS = {
    Phase.ahead: N_("Reminder: {case} is due on {date}"),
    Phase.last_day: N_("Reminder: {case} is due on {date}"),
    Phase.today: N_("Due today: {case}"),
    Phase.overdue: N_("Overdue by {days} working days: {case}"),
    Phase.passed: N_("Reminder: {case} was due on {date}"),
}
ESCALATION_SUBJECT = N_("Escalation: {case} is overdue by {days} working days")
SENTENCES = {
    Phase.ahead: N_("{case}: {thing} is due on {due}."),
    Phase.last_day: N_("{case}: {thing} is due on {due}, a day off; today is the last working "
                       "day before it."),
    Phase.today: N_("{case}: {thing} is due today ({due})."),
    Phase.overdue: N_("{case}: {thing} was due on {due} and is {days} working days overdue."),
    Phase.passed: N_("{case}: {thing} was due on {due}."),
}
# Kept by the outbox: a reminder is worth sending unless one of these replaced it.
LIVE = (MessageStatus.pending, MessageStatus.held, MessageStatus.digested, MessageStatus.sent)


@dataclass
class Context:
    """What one mail is written with (shared by the messages of one delivery)."""

    session: Session
    settings: Settings
    registry: Registry
    now: datetime
    locale: str
    gettext: Gettext
    show_date: Any  # (date, locale) -> str
    name_of: Any  # (Person | None, locale) -> str
    # A batch's reads done once (Composer.prefetch); None: read for this mail alone.
    open_tasks: dict[int, list[Task]] | None = None  # by instance, oldest first
    directory: Directory | None = None
    later: LaterReminders | None = None
    link_rows: list[dict[str, Any]] | None = None  # links to store with the batch

    def text(self, message: Message) -> str:
        """A message in the reader's language, its dates written the reader's way."""
        params = {k: self.show_date(v, self.locale) if isinstance(v, date) else v
                  for k, v in message.params.items()}
        return Message(message.msgid, params).render(self.gettext)


def _open_on_topic(ctx: Context, instance: WorkflowInstance, key: str) -> list[Task]:
    """The case's open tasks about one thing, oldest first."""
    if ctx.open_tasks is not None and instance.id in ctx.open_tasks:
        tasks: Any = ctx.open_tasks[instance.id]
    else:  # a mail outside the batch read (a digest's items)
        tasks = ctx.session.exec(select(Task).where(
            Task.instance_id == instance.id, Task.status == TaskStatus.open).order_by(Task.id))
    return [t for t in tasks if topic_key(t) == key]


@dataclass
class LaterReminders:
    """The live reminders queued after the first message of a batch to the batch's recipients
    about the batch's cases (one statement), so each message checks `_replaced` without one."""

    first_id: int
    recipients: set[int]
    instances: set[int]
    rows: dict[tuple[int, int], list[tuple[int, Any, int | None]]]

    def covers(self, message: OutboxMessage) -> bool:
        """Whether the rows answer for this message (a digest's items may lie outside)."""
        return (message.id is not None and message.id >= self.first_id
                and message.recipient_id in self.recipients
                and message.instance_id in self.instances)

    def after(self, message: OutboxMessage) -> list[tuple[Any, int | None]]:
        """(params, task id) of the live reminders after this one to its person on its case."""
        assert message.id is not None
        return [(params, task_id) for message_id, params, task_id
                in self.rows.get((message.recipient_id, message.instance_id or 0), [])
                if message_id > message.id]


def later_reminders(session: Session, messages: list[OutboxMessage]) -> LaterReminders | None:
    """Read the live reminders queued after these messages, for a batch; None for none."""
    ids = [m.id for m in messages if m.id is not None]
    if not ids:
        return None
    found = LaterReminders(min(ids), {m.recipient_id for m in messages},
                           {m.instance_id for m in messages if m.instance_id}, {})
    if not found.instances:
        return found
    rows = session.exec(select(OutboxMessage.id, OutboxMessage.recipient_id,
                               OutboxMessage.instance_id, OutboxMessage.params,
                               OutboxMessage.task_id).where(
        OutboxMessage.recipient_id.in_(found.recipients),
        OutboxMessage.instance_id.in_(found.instances),
        OutboxMessage.kind.in_(MessageKind.reminders),
        OutboxMessage.id > found.first_id,
        OutboxMessage.status.in_(LIVE)))
    for message_id, recipient_id, instance_id, params, task_id in rows:
        found.rows.setdefault((recipient_id, instance_id), []).append(
            (message_id, params, task_id))
    return found


def _replaced(ctx: Context, message: OutboxMessage, key: str) -> bool:
    """Whether a later reminder to the same person about the same thing exists: then this one
    is not sent (after downtime the queue may hold several; only the latest is true)."""
    session = ctx.session
    if ctx.later is not None and ctx.later.covers(message):
        later: Any = ctx.later.after(message)
    else:
        later = session.exec(select(OutboxMessage.params, OutboxMessage.task_id).where(
            OutboxMessage.recipient_id == message.recipient_id,
            OutboxMessage.instance_id == message.instance_id,
            OutboxMessage.kind.in_(MessageKind.reminders),
            OutboxMessage.id > message.id,
            OutboxMessage.status.in_(LIVE)))
    for params, task_id in later:
        topic = (params or {}).get("topic")
        if topic is None and task_id is not None:  # HR's "remind now" names only its task
            task = session.get(Task, task_id)
            topic = topic_key(task) if task else None
        if topic == key:
            return True
    return False


def _topic(ctx: Context, spec: WorkflowSpec, instance: WorkflowInstance, task: Task
           ) -> TaskTopic:
    state = spec.states.get(task.state)
    label = dict(state.label) if state else None
    found = topic_of(ctx.session, instance, task, label)
    # A task kind nobody describes is named by its step and offers nothing to click.
    return found or TaskTopic(step_key(task.state),
                              Message("the step “{state}”", {"state": label or task.state}))


def task_item(ctx: Context, message: OutboxMessage, instance: WorkflowInstance,
              spec: WorkflowSpec, recipient: Person, case: str) -> dict[str, Any] | None:
    """The context of a reminder or an escalation, or None when nothing true is left to say
    (the task was done, the case moved on, or a later reminder replaced this one)."""
    session = ctx.session
    task = session.get(Task, message.task_id) if message.task_id else None
    if task is None:
        return None
    params = message.params or {}
    key = params.get("topic") or topic_key(task)
    siblings = _open_on_topic(ctx, instance, key)
    if not siblings:
        return None
    today = local_date(ctx.now)
    directory = ctx.directory or Directory(session, today)
    mine: list[tuple[Task, int | None]] = []
    if message.kind in MessageKind.reminders:
        for sibling in siblings:
            mine += [(sibling, r.on_behalf_of_id) for r in task_recipients(
                session, sibling, instance, today, directory) if r.person.id == recipient.id]
        if not mine or _replaced(ctx, message, key):
            return None
        lead = next((t for t, _ in mine if t.id == task.id), mine[0][0])
        principals = sorted({p for _, p in mine if p is not None})
    else:
        lead = task if task.status == TaskStatus.open else siblings[0]
        principals = [params["on_behalf_of_id"]] if params.get("on_behalf_of_id") else []
    if lead.due_at is None:
        return None
    topic = _topic(ctx, spec, instance, lead)
    due_day = local_date(lead.due_at)
    phase, days = phase_on(calendar.load(session), due_day, today)
    _ = ctx.gettext
    due = ctx.show_date(due_day, ctx.locale)
    thing = ctx.text(topic.name)
    headline = f"{ctx.text(topic.title)} · {case}" if topic.title else case
    if message.kind == MessageKind.escalation:
        subject = _(ESCALATION_SUBJECT).format(case=headline, days=days)
        sentence = _(SENTENCES[Phase.overdue]).format(case=case, thing=thing, due=due, days=days)
    else:
        subject = _(SUBJECTS[phase]).format(case=headline, date=due, days=days)
        sentence = _(SENTENCES[phase]).format(case=case, thing=thing, due=due, days=days)
    principal_names = [ctx.name_of(session.get(Person, p), ctx.locale) for p in principals]
    item: dict[str, Any] = {
        "subject": subject,
        "sentence": sentence,
        "thing": thing,
        "due": due,
        "days": days,
        "phase": phase,
        "on_behalf_of": ", ".join(n for n in principal_names if n),
        "actions": [],
        "waiting": [],
    }
    if message.kind == MessageKind.escalation:
        ids = sorted({pid for t in siblings for pid in task_people(session, t)})
        item["waiting"] = [ctx.name_of(session.get(Person, i), ctx.locale) for i in ids]
    else:
        item["actions"] = _actions(ctx, message, instance, spec, recipient, mine, topic)
    return item


def _actions(ctx: Context, message: OutboxMessage, instance: WorkflowInstance,
             spec: WorkflowSpec, recipient: Person, mine: list[tuple[Task, int | None]],
             topic: TaskTopic) -> list[dict[str, Any]]:
    """Exactly what the reminded tasks ask: a domain item's page (sign-in), or one single-use
    link per workflow action of those tasks that this person may take now."""
    base = ctx.settings.base_url.rstrip("/")
    if topic.actions:
        return [{"label": ctx.text(a.label), "url": f"{base}{a.path}", "needs_login": True}
                for a in topic.actions]
    lifetime = timedelta(hours=ctx.settings.action_link_lifetime_hours)
    secret = ctx.settings.resolved_secret_key()
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int | None]] = set()
    for task, _principal in mine:
        for action in action_links.link_actions(ctx.session, instance, task, recipient,
                                                ctx.registry):
            mark = (action.transition.trigger, action.on_behalf_of_id)
            if mark in seen:
                continue
            seen.add(mark)
            assert message.id is not None
            token = action_links.issue(
                ctx.session, secret=secret, person=recipient, task=task, instance=instance,
                action=action, spec=spec, now=ctx.now, lifetime=lifetime, message_id=message.id,
                pending=ctx.link_rows)
            out.append({
                "label": pick_label(action.transition.label, ctx.locale),
                "url": f"{base}/act/{token}",
                "needs_login": action_links.final_outcome(spec, action.transition),
            })
    return out
