"""An outbox row becomes an email: text and HTML from templates, in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from babel.dates import format_date
from jinja2 import Template
from sqlalchemy import insert
from sqlmodel import Session, SQLModel, select

from app.config import Settings
from app.engine import calendar
from app.engine.calendar import local_date
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.i18n import LOCALES, N_, gettext_for, pick_label
from app.notifications import action_links
from app.notifications.mail_templates import environment, person_name
from app.notifications.models import ActionLink, MessageKind, OutboxMessage
from app.org.models import OrgUnit, Person
from app.reminders.recipients import task_people

M = TypeVar("M", bound=SQLModel)

SUBJECTS = {
    MessageKind.before_due: N_("Reminder: {case} is due on {date}"),
    MessageKind.on_due: N_("Due today: {case}"),
    MessageKind.overdue: N_("Overdue by {days} working days: {case}"),
    MessageKind.escalation: N_("Escalation: {case} is overdue by {days} working days"),
    MessageKind.final_result: N_("Result: {case}: {state}"),
    MessageKind.digest: N_("Your Stepwise digest of {date}: {count} items"),
}


@dataclass(frozen=True)
class Email:
    """A rendered message."""

    subject: str
    text: str
    html: str


def show_date(day: date | None, locale: str) -> str:
    """A date the way the reader writes it (2027年2月16日 / February 16, 2027)."""
    if day is None:
        return ""
    return _long_date(day, "zh_CN" if locale.startswith("zh") else "en")


@lru_cache(maxsize=4096)
def _long_date(day: date, babel_locale: str) -> str:
    return format_date(day, format="long", locale=babel_locale)


def case_url(settings: Settings, instance_id: int) -> str:
    """The case page an email points to."""
    return f"{settings.base_url.rstrip('/')}/instances/{instance_id}"


def action_url(settings: Settings, token: str) -> str:
    """The confirmation page of an action link."""
    return f"{settings.base_url.rstrip('/')}/act/{token}"


class Composer:
    """Builds the context of one message (minting its action links) and renders it."""

    def __init__(self, session: Session, settings: Settings, registry: Registry,
                 now: datetime) -> None:
        self.session = session
        self.settings = settings
        self.registry = registry
        self.now = now
        self._templates: dict[tuple[str, str], Template] = {}
        self._kept: list[SQLModel] = []
        self._new_links: list[dict[str, Any]] | None = None

    def gather_links(self) -> None:
        """From now on keep the action links it mints for `write_links` (one statement for the
        whole batch) instead of adding each to the session."""
        self._new_links = []

    def write_links(self) -> None:
        """Insert the action links gathered since `gather_links`."""
        if self._new_links:
            self.session.execute(insert(ActionLink), self._new_links)
        self._new_links = [] if self._new_links is not None else None

    def prefetch(self, messages: list[OutboxMessage]) -> None:
        """Load in a few statements the rows that writing these messages reads one by one
        (cases, tasks, people, their supervisors and units), so those reads find them in the
        session instead of asking the database each time (the session holds rows weakly: the
        composer keeps them)."""
        session = self.session
        instances = _load(session, WorkflowInstance, {m.instance_id for m in messages})
        tasks = _load(session, Task, {m.task_id for m in messages})
        people = {m.recipient_id for m in messages}
        people |= {i.subject_id for i in instances} | {i.initiator_id for i in instances}
        people |= {(m.params or {}).get("on_behalf_of_id") for m in messages}
        loaded = _load(session, Person, people)
        loaded += _load(session, Person, {p.supervisor_id for p in loaded} - people)
        units = _load(session, OrgUnit, {p.org_unit_id for p in loaded}
                      | {i.org_unit_id for i in instances})
        self._kept.extend([*instances, *tasks, *loaded, *units])

    def _template(self, locale: str, name: str) -> Template:
        key = (locale, name)
        if key not in self._templates:
            self._templates[key] = environment(locale).get_template(name)
        return self._templates[key]

    def render(self, message: OutboxMessage, recipient: Person) -> Email:
        """Subject, text and HTML of a message, for its recipient."""
        if message.kind == "password_reset":  # written by its own module (issue 6)
            from app.auth.reset import render_mail

            return Email(*render_mail(self.session, message, recipient, self.settings))
        locale = recipient.locale if recipient.locale in LOCALES else self.settings.default_locale
        _ = gettext_for(locale)
        if message.kind == MessageKind.digest:
            items = [self.item(m, recipient, locale) for m in self._digest_items(message)]
            ctx: dict[str, Any] = {"items": [i for i in items if i]}
            subject = _(SUBJECTS[MessageKind.digest]).format(
                date=show_date(local_date(self.now), locale), count=len(ctx["items"]))
        else:
            ctx = self.item(message, recipient, locale) or {}
            subject = ctx.get("subject", "")
        ctx.update(recipient_name=person_name(recipient, locale), locale=locale,
                   base_url=self.settings.base_url.rstrip("/"))
        name = message.kind if message.kind == MessageKind.digest else "notice"
        return Email(
            subject=subject[:300],
            text=self._template(locale, f"email/{name}.txt").render(ctx),
            html=self._template(locale, f"email/{name}.html").render(ctx),
        )

    def _digest_items(self, digest: OutboxMessage) -> list[OutboxMessage]:
        return list(self.session.exec(select(OutboxMessage).where(
            OutboxMessage.digest_id == digest.id).order_by(OutboxMessage.id)))

    def item(self, message: OutboxMessage, recipient: Person, locale: str
             ) -> dict[str, Any] | None:
        """The context of one notice: the case, its state, the deadline, and the links."""
        _ = gettext_for(locale)
        instance = self.session.get(WorkflowInstance, message.instance_id)
        if instance is None:
            return None
        spec = self.registry.compiled(self.session, instance.definition_id).spec
        params = message.params or {}
        state_name = params.get("state") or instance.state
        state = spec.states.get(state_name)
        subject_person = self.session.get(Person, instance.subject_id)
        case = instance.title or pick_label(spec.label, locale)
        case_label = f"{case} ({person_name(subject_person, locale)})"
        due_at = params.get("due_at")
        due_day = local_date(datetime.fromisoformat(due_at)) if due_at else None
        days = params.get("overdue_days", params.get("level", 0))
        if message.kind == MessageKind.overdue and due_day is not None:
            days = calendar.load(self.session).working_days_between(due_day, local_date(self.now))
        principal = self.session.get(Person, params["on_behalf_of_id"]) if params.get(
            "on_behalf_of_id") else None
        ctx: dict[str, Any] = {
            "kind": message.kind,
            "case": case_label,
            "workflow": pick_label(spec.label, locale),
            "state": pick_label(state.label, locale) if state else state_name,
            "due": show_date(due_day, locale),
            "days": days,
            "case_url": case_url(self.settings, instance.id),
            "on_behalf_of": person_name(principal, locale),
            "actions": [],
            "waiting": [],
        }
        subject_params = {"case": case_label, "date": ctx["due"], "days": days,
                          "state": ctx["state"]}
        ctx["subject"] = _(SUBJECTS[message.kind]).format(**subject_params)
        if message.kind in MessageKind.reminders and message.task_id is not None:
            ctx["actions"] = self._links(message, instance, recipient, locale)
        if message.kind == MessageKind.escalation:
            ctx["waiting"] = self._waiting(instance, state_name, locale)
        return ctx

    def _links(self, message: OutboxMessage, instance: WorkflowInstance, recipient: Person,
               locale: str) -> list[dict[str, Any]]:
        task = self.session.get(Task, message.task_id)
        if task is None or task.status != TaskStatus.open:
            return []
        spec = self.registry.compiled(self.session, instance.definition_id).spec
        lifetime = timedelta(hours=self.settings.action_link_lifetime_hours)
        out = []
        for action in action_links.link_actions(self.session, instance, task, recipient,
                                                self.registry):
            if self._new_links is None:
                token = action_links.mint(
                    self.session, person=recipient, task=task, instance=instance,
                    action=action, spec=spec, now=self.now, lifetime=lifetime,
                    message_id=message.id)
            else:
                token, row = action_links.new_link(
                    person=recipient, task=task, instance=instance, action=action, spec=spec,
                    now=self.now, lifetime=lifetime, message_id=message.id)
                self._new_links.append(row)
            out.append({
                "label": pick_label(action.transition.label, locale),
                "url": action_url(self.settings, token),
                "needs_login": action_links.final_outcome(spec, action.transition),
            })
        return out

    def _waiting(self, instance: WorkflowInstance, state: str, locale: str) -> list[str]:
        tasks = self.session.exec(select(Task).where(
            Task.instance_id == instance.id, Task.status == TaskStatus.open, Task.state == state))
        ids = sorted({pid for task in tasks for pid in task_people(self.session, task)})
        return [person_name(self.session.get(Person, i), locale) for i in ids]


def _load(session: Session, model: type[M], ids: set[Any]) -> list[M]:
    """Rows by id in one statement (they stay in the session for later gets)."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return []
    return list(session.exec(select(model).where(model.id.in_(wanted))))  # type: ignore[attr-defined]
