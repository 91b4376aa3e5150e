"""My work as the reader sees it: titles, workflow and state labels in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app.engine.registry import Registry
from app.i18n import pick_label
from app.org.models import Person
from app.tasks.service import MyTask
from app.web.labels import person_name


@dataclass
class TaskRow:
    """One line of "My work"."""

    task_id: int
    instance_id: int
    title: str
    workflow: str
    workflow_label: str
    state: str
    state_label: str
    kind: str
    subject_name: str
    due_at: datetime | None
    overdue: bool
    on_behalf_of_id: int | None
    on_behalf_of_name: str
    url: str


def task_rows(
    session: Session, tasks: list[MyTask], locale: str, registry: Registry
) -> list[TaskRow]:
    """Rows for the page and the API, in the order given."""
    ids = {t.instance.subject_id for t in tasks} | {
        t.on_behalf_of_id for t in tasks if t.on_behalf_of_id is not None
    }
    people = (
        {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}
    )
    rows = []
    for item in tasks:
        spec = registry.compiled(session, item.instance.definition_id).spec
        state = spec.states.get(item.task.state)
        rows.append(TaskRow(
            task_id=item.task.id,
            instance_id=item.instance.id,
            title=item.instance.title,
            workflow=item.instance.workflow,
            workflow_label=pick_label(spec.label, locale),
            state=item.task.state,
            state_label=pick_label(state.label, locale) if state else item.task.state,
            kind=item.task.kind,
            subject_name=person_name(people.get(item.instance.subject_id), locale),
            due_at=item.task.due_at,
            overdue=item.overdue,
            on_behalf_of_id=item.on_behalf_of_id,
            on_behalf_of_name=person_name(people.get(item.on_behalf_of_id), locale),
            url=f"/instances/{item.instance.id}",
        ))
    return rows
