"""Emailed action links made as a mail would carry them, for tests that open `/act/{token}`."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session

from app import clock
from app.engine.definitions import WorkflowSpec
from app.engine.models import Task, WorkflowInstance
from app.engine.runtime import Action
from app.notifications.action_links import final_outcome, hash_token
from app.notifications.models import ActionLink
from app.org.models import Person


def emailed_link(session: Session, *, person: Person, task: Task, instance: WorkflowInstance,
                 action: Action, spec: WorkflowSpec, lifetime: timedelta) -> str:
    """Store one action's link for this person (not committed); the token the email carries."""
    token = secrets.token_urlsafe(32)
    session.add(ActionLink(
        token_hash=hash_token(token), person_id=person.id, task_id=task.id,
        instance_id=instance.id, trigger=action.transition.trigger, state=task.state,
        on_behalf_of_id=action.on_behalf_of_id,
        requires_login=final_outcome(spec, action.transition),
        expires_at=clock.now() + lifetime))
    return token
