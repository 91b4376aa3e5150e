"""An outbox row becomes an email: text and HTML from templates, in the recipient's language,
saying what is true when it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from babel.dates import format_date
from jinja2 import Template
from sqlmodel import Session, SQLModel, select

from app.config import Settings
from app.engine.calendar import local_date
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.i18n import LOCALES, N_, gettext_for, pick_label
from app.notifications import action_links
from app.notifications.mail_templates import environment, person_name
from app.notifications.models import MessageKind, OutboxMessage
from app.notifications.notices import filing_item
from app.notifications.task_mail import Context, later_reminders, task_item
from app.org.models import OrgUnit, Person
from app.reminders.recipients import Directory
from app.text import brackets

M = TypeVar("M", bound=SQLModel)

SUBJECTS = {
    MessageKind.final_result: N_("Result: {case}: {state}"),
    MessageKind.digest: N_("Your Stepwise digest of {date}: {count} items"),
}
FINAL_SENTENCE = N_("{case} has ended: {state}.")


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


class Composer:
    """Builds the context of one message (storing its action links) and renders it."""

    def __init__(self, session: Session, settings: Settings, registry: Registry,
                 now: datetime) -> None:
        self.session = session
        self.settings = settings
        self.registry = registry
        self.now = now
        self._templates: dict[tuple[str, str], Template] = {}
        self._kept: list[SQLModel] = []
        self._batch: dict[str, Any] = {}  # what `prefetch` read for the Context of each mail

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
        # the cases' open tasks, who they wait on (with delegations), the reminders queued
        # after these: what each reminder checks before it is written
        open_tasks: dict[int, list[Task]] = {i.id: [] for i in instances if i.id is not None}
        if open_tasks:
            for task in session.exec(select(Task).where(
                    Task.instance_id.in_(sorted(open_tasks)),
                    Task.status == TaskStatus.open).order_by(Task.id)):
                open_tasks[task.instance_id].append(task)
                self._kept.append(task)
        directory = Directory(session, local_date(self.now))
        directory.load({t.assignee_id for ts in open_tasks.values() for t in ts})
        self._batch = {"open_tasks": open_tasks, "directory": directory,
                       "later": later_reminders(session, messages), "link_rows": []}

    def store_links(self) -> None:
        """Write the links the batch's mails carry (one round trip)."""
        rows = self._batch.get("link_rows")
        if rows:
            action_links.store(self.session, rows)
            rows.clear()

    def _template(self, locale: str, name: str) -> Template:
        key = (locale, name)
        if key not in self._templates:
            self._templates[key] = environment(locale).get_template(name)
        return self._templates[key]

    def render(self, message: OutboxMessage, recipient: Person) -> Email | None:
        """Subject, text and HTML of a message, for its recipient; None when nothing it would
        say is still true (its task was done, or a later reminder replaced it)."""
        if message.kind == "password_reset":  # written by its own module (issue 6)
            from app.auth.reset import render_mail

            return Email(*render_mail(self.session, message, recipient, self.settings))
        locale = recipient.locale if recipient.locale in LOCALES else self.settings.default_locale
        _ = gettext_for(locale)
        if message.kind == MessageKind.digest:
            items = [self.item(m, recipient, locale) for m in self._digest_items(message)]
            ctx: dict[str, Any] = {"items": [i for i in items if i]}
            if not ctx["items"]:
                return None
            subject = _(SUBJECTS[MessageKind.digest]).format(
                date=show_date(local_date(self.now), locale), count=len(ctx["items"]))
        else:
            found = self.item(message, recipient, locale)
            if found is None:
                return None
            ctx = found
            subject = ctx["subject"]
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
        """The context of one notice (the case, what it is about, the links), or None when
        nothing it would say is still true."""
        instance = self.session.get(WorkflowInstance, message.instance_id)
        if instance is None:
            return None
        _ = gettext_for(locale)
        spec = self.registry.compiled(self.session, instance.definition_id).spec
        subject_person = self.session.get(Person, instance.subject_id)
        case = instance.title or pick_label(spec.label, locale)
        opening, closing = brackets(locale)  # "检查点（张三）", "Check (Zhang San)"
        case_label = f"{case}{opening}{person_name(subject_person, locale)}{closing}"
        common: dict[str, Any] = {
            "kind": message.kind, "case": case_label, "workflow": pick_label(spec.label, locale),
            "case_url": case_url(self.settings, instance.id), "on_behalf_of": "",
            "actions": [], "waiting": [],
        }
        if message.kind == MessageKind.final_result:
            state_name = (message.params or {}).get("state") or instance.state
            state = spec.states.get(state_name)
            label = pick_label(state.label, locale) if state else state_name
            return {**common, "state": label,
                    "subject": _(SUBJECTS[MessageKind.final_result]).format(case=case_label,
                                                                           state=label),
                    "sentence": _(FINAL_SENTENCE).format(case=case_label, state=label)}
        if message.kind == MessageKind.filing_notice:
            return {**common, **filing_item(self.session, message.params or {}, case_label,
                                            locale, _, show_date, person_name,
                                            self.settings.base_url.rstrip("/"))}
        context = Context(self.session, self.settings, self.registry, self.now, locale, _,
                          show_date, person_name, **self._batch)
        found = task_item(context, message, instance, spec, recipient, case_label)
        return {**common, **found} if found is not None else None


def _load(session: Session, model: type[M], ids: set[Any]) -> list[M]:
    """Rows by id in one statement (they stay in the session for later gets)."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return []
    return list(session.exec(select(model).where(model.id.in_(wanted))))  # type: ignore[attr-defined]
