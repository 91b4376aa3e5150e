"""Single-use action links: one per recipient, message and action, stored hashed, checked before
acting."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from app.engine import runtime
from app.engine.definitions import TransitionSpec, WorkflowSpec
from app.engine.models import AuditEvent, Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.engine.runtime import Action, FireResult
from app.engine.topics import is_engine_task
from app.errors import NotAllowed, NotAuthenticated, TokenExpired
from app.notifications.models import ActionLink
from app.org.models import Person
from app.reminders.recipients import expression_people, task_people


class LinkStatus:
    """What opening a link finds."""

    ready = "ready"
    used = "used"
    expired = "expired"
    overtaken = "overtaken"  # the case moved on, or the task closed
    reassigned = "reassigned"  # the task is now someone else's
    unknown = "unknown"


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 (a database leak reveals no usable link)."""
    return hashlib.sha256(token.encode("ascii", "ignore")).hexdigest()


def final_outcome(spec: WorkflowSpec, transition: TransitionSpec) -> bool:
    """Whether an action can end the case (a decision, an appointment): those need a login."""
    return any(spec.states[dest].terminal for dest in transition.destinations)


def token_for(secret: str, *, message_id: int, task_id: int, trigger: str,
              on_behalf_of_id: int | None) -> str:
    """The token of one action in one message: derived from the message with the server's
    secret, so writing the message again (a retry, or a resend after a crash) gives the same
    links, and the copy that left just before the crash keeps working."""
    text = f"action-link:{message_id}:{task_id}:{trigger}:{on_behalf_of_id or ''}"
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue(session: Session, *, secret: str, person: Person, task: Task,
          instance: WorkflowInstance, action: Action, spec: WorkflowSpec, now: datetime,
          lifetime: timedelta, message_id: int,
          pending: list[dict[str, Any]] | None = None) -> str:
    """Store the link of one action in one message (once: writing the message again keeps a
    used link used, and gives an unused one a fresh lifetime); the token for the email. With
    `pending`, the row is added there, for `store` to write with the rest of a batch."""
    token = token_for(secret, message_id=message_id, task_id=task.id or 0,
                      trigger=action.transition.trigger, on_behalf_of_id=action.on_behalf_of_id)
    row = {
        "token_hash": hash_token(token),
        "person_id": person.id,
        "task_id": task.id,
        "instance_id": instance.id,
        "trigger": action.transition.trigger,
        "state": task.state,
        "on_behalf_of_id": action.on_behalf_of_id,
        "requires_login": final_outcome(spec, action.transition),
        "expires_at": now + lifetime,
        "message_id": message_id,
        "created_at": now,
    }
    if pending is not None:
        pending.append(row)
    else:
        store(session, [row])
    return token


def store(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write links in one round trip (an executemany of the upsert)."""
    if rows:
        session.connection().execute(_upsert_link(session.get_bind().dialect.name), rows)


@cache
def _upsert_link(dialect: str) -> Any:
    """INSERT … ON CONFLICT (token_hash) DO UPDATE the lifetime of a link nobody used yet."""
    table = ActionLink.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.token_hash],
        set_={"expires_at": statement.excluded.expires_at},
        where=table.c.used_at.is_(None),
    )


def link_actions(session: Session, instance: WorkflowInstance, task: Task, person: Person,
                 registry: Registry | None = None) -> list[Action]:
    """The task's actions this person may take now (optional side actions are not offered).

    What `runtime.available_actions` gives, kept to the task's own actions before the
    permission check rather than after: an optional action such as cancelling (allowed from
    every state, to HR) is never offered, so resolving who may take it was wasted work. A task
    a domain opened (a checkpoint) is about its own item, never a workflow action: none.
    """
    if not is_engine_task(task):
        return []

    def own(t: TransitionSpec) -> bool:
        if t.optional:
            return False
        names = [s.signer for s in t.sign_offs] if t.sign_offs else t.actors
        if task.actor_expr and task.actor_expr not in names:
            return False
        return task.kind != "sign_off" or bool(t.sign_offs)

    return runtime.available_actions(session, instance, person, registry, only=own)


@dataclass
class LinkView:
    """Everything a link page shows: the link, its case, and what became of it."""

    status: str
    link: ActionLink | None = None
    instance: WorkflowInstance | None = None
    task: Task | None = None
    person: Person | None = None
    transition: TransitionSpec | None = None
    spec: WorkflowSpec | None = None
    action: Action | None = None
    acted: AuditEvent | None = None
    current_people: list[Person] = field(default_factory=list)

    @property
    def needs_login(self) -> bool:
        """Final outcomes are never decided by a link alone."""
        return bool(self.link and self.link.requires_login)


def find(session: Session, token: str) -> ActionLink | None:
    """The link a token belongs to."""
    if not token or len(token) > 200:
        return None
    return session.exec(
        select(ActionLink).where(ActionLink.token_hash == hash_token(token))
    ).first()


def _first_event_since(session: Session, link: ActionLink) -> AuditEvent | None:
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.instance_id == link.instance_id, AuditEvent.at >= link.created_at,
               AuditEvent.trigger != "start")
        .order_by(AuditEvent.seq)
    ).first()


def _current_people(session: Session, instance: WorkflowInstance) -> list[Person]:
    """Who the case waits on now, named afresh (a supervisor may have changed since)."""
    tasks = session.exec(select(Task).where(Task.instance_id == instance.id,
                                            Task.status == TaskStatus.open))
    ids: set[int] = set()
    for task in tasks:
        ids.update(expression_people(session, instance, task.actor_expr) if task.actor_expr
                   else task_people(session, task))
    return [p for p in (session.get(Person, i) for i in sorted(ids)) if p is not None]


def inspect(session: Session, token: str, now: datetime,
            registry: Registry | None = None) -> LinkView:
    """What a link can do now, without changing anything (GET and link scanners land here)."""
    link = find(session, token)
    if link is None:
        return LinkView(LinkStatus.unknown)
    instance = session.get(WorkflowInstance, link.instance_id)
    task = session.get(Task, link.task_id)
    person = session.get(Person, link.person_id)
    assert instance is not None and task is not None and person is not None
    if not is_engine_task(task):
        return LinkView(LinkStatus.unknown)  # no workflow action was ever a domain task's own
    spec = (registry or runtime.get_registry()).compiled(session, instance.definition_id).spec
    view = LinkView(LinkStatus.ready, link, instance, task, person,
                    spec.transition(link.trigger, link.state), spec)
    if link.used_at is not None:
        view.status = LinkStatus.used
    elif task.status != TaskStatus.open or instance.state != link.state:
        view.status = LinkStatus.overtaken
    elif link.expires_at <= now:
        view.status = LinkStatus.expired
    elif not person.active:
        view.status = LinkStatus.reassigned
    else:
        view.action = next(
            (a for a in link_actions(session, instance, task, person, registry)
             if a.transition.trigger == link.trigger), None)
        if view.action is None:
            view.status = LinkStatus.reassigned
    if view.status != LinkStatus.ready:
        view.acted = _first_event_since(session, link)
        view.current_people = _current_people(session, instance)
    return view


def use(session: Session, token: str, *, signed_in: Person | None, payload: dict[str, Any],
        now: datetime, registry: Registry | None = None) -> tuple[LinkView, FireResult]:
    """Act through a link once, as the person it was sent to, for its one action.

    Raises TokenExpired when the link cannot act any more (the page then shows why).
    """
    view = inspect(session, token, now, registry)
    if view.status != LinkStatus.ready:
        raise TokenExpired("This link can no longer be used.")
    assert view.link is not None and view.instance is not None and view.person is not None
    if view.needs_login:
        if signed_in is None:
            raise NotAuthenticated("Please sign in to take this decision.")
        if signed_in.id != view.person.id:
            raise NotAllowed("This link was sent to someone else.")
    consumed = session.execute(
        update(ActionLink)
        .where(ActionLink.id == view.link.id, ActionLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if consumed != 1:
        raise TokenExpired("This link can no longer be used.")
    result = runtime.fire(
        session, view.instance, view.link.trigger, view.person, payload,
        on_behalf_of_id=view.link.on_behalf_of_id, registry=registry,
    )
    view.link.used_at = now
    return view, result
