"""Who may see an instance on the generic pages: the engine's one need-to-know rule.

The rule lives in app/engine/access.py (subject, initiator, supervisor chain, HR scope over the
unit and below, anyone with a task on it, delegates of those); plan and promotion pages use the
same rule, so a case is visible on every page or on none. Administrators run the system but are
not HR: being an administrator gives no right to read careers (docs/decisions.md).
"""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from app.engine import access as need_to_know
from app.engine.models import WorkflowInstance
from app.org.models import Person


def visible_filter(session: Session, person: Person) -> ColumnElement[bool]:
    """SQL condition on WorkflowInstance: the instance is visible to this person."""
    return need_to_know.visible_filter(session, person)


def can_view(session: Session, person: Person, instance: WorkflowInstance) -> bool:
    """Whether this person may see this instance."""
    return need_to_know.can_view(session, person, instance)
