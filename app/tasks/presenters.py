"""My work as the reader sees it: each task as a verb naming the thing and its date, and the
address of the exact place where it is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app import clock
from app.engine.definitions import WorkflowSpec
from app.engine.models import Task, WorkflowInstance
from app.engine.registry import Registry
from app.errors import NotFound
from app.i18n import gettext_for, pick_label
from app.instances.presenters import task_transition
from app.org.models import Person
from app.plans import worklist
from app.plans.models import ImprovementPlan
from app.promotions.links import case_url
from app.promotions.models import ExitRequest, PromotionRequest
from app.promotions.presenters import title_label
from app.promotions.schemes import get_scheme
from app.tasks.service import MyTask
from app.web.labels import person_name


@dataclass
class TaskRow:
    """One line of "My work"."""

    task_id: int
    instance_id: int
    what: str  # the verb naming the thing: "Record progress for the Mar 2 checkpoint"
    title: str
    workflow: str
    workflow_label: str
    state: str
    state_label: str
    kind: str
    subject_id: int
    subject_name: str
    due_at: datetime | None
    overdue: bool
    due_today: bool
    on_behalf_of_id: int | None
    on_behalf_of_name: str
    url: str  # the page and form where the action is taken
    form: str  # the id of that form on the page


def _instance_work(task: Task, instance: WorkflowInstance, spec: WorkflowSpec,
                   locale: str) -> tuple[str, str, str]:
    """A task of any other workflow: its action's verb, on the case page at that action."""
    t = task_transition(spec, task)
    state = spec.states.get(task.state)
    what = pick_label(t.button, locale) if t else (pick_label(state.label, locale)
                                                    if state else task.state)
    form = f"action-{t.trigger}" if t else ""
    url = f"/instances/{instance.id}" + (f"?do={form}" if form else "")
    return what, form, url


def _promotion_work(session: Session, task: Task, instance: WorkflowInstance,
                    spec: WorkflowSpec, request: PromotionRequest, person: Person | None,
                    locale: str, registry: Registry) -> tuple[str, str, str]:
    """A promotion step: "Approve: Zhang Wei's application for senior CM", on the application's
    own page at that decision (its qualification facts beside the buttons)."""
    verb, form, url = _instance_work(task, instance, spec, locale)
    try:
        title = title_label(get_scheme(request.scheme, registry), request.target_title, locale)
    except NotFound:  # a scheme file since removed: the row still reads
        title = ""
    gettext = gettext_for(locale)
    what = gettext("{action}: {name}'s application for {title}").format(
        action=verb, name=person_name(person, locale), title=title or request.target_title)
    return what, form, case_url(session, instance, form) or url


def _exit_work(session: Session, task: Task, instance: WorkflowInstance, spec: WorkflowSpec,
               exit_: ExitRequest, person: Person | None, locale: str,
               registry: Registry) -> tuple[str, str, str]:
    """A step of an exit: "Approve: Zhao Lei · Leaving the customer-manager team", on the exit's
    own page at that decision (its grounds beside the buttons)."""
    verb, form, url = _instance_work(task, instance, spec, locale)
    try:
        route = get_scheme(exit_.scheme, registry).exits.get(exit_.route)
    except NotFound:
        route = None
    gettext = gettext_for(locale)
    what = gettext("{action}: {name} · {what}").format(
        action=verb, name=person_name(person, locale),
        what=pick_label(route.label if route else spec.label, locale))
    return what, form, case_url(session, instance, form) or url


def task_rows(
    session: Session, tasks: list[MyTask], locale: str, registry: Registry
) -> list[TaskRow]:
    """Rows for the page and the API, in the order given."""
    instance_ids = [t.instance.id for t in tasks]
    plans = {p.instance_id: p for p in session.exec(
        select(ImprovementPlan).where(ImprovementPlan.instance_id.in_(instance_ids)))
    } if instance_ids else {}
    requests = {r.instance_id: r for r in session.exec(
        select(PromotionRequest).where(PromotionRequest.instance_id.in_(instance_ids)))
    } if instance_ids else {}
    exits = {e.instance_id: e for e in session.exec(
        select(ExitRequest).where(ExitRequest.instance_id.in_(instance_ids)))
    } if instance_ids else {}
    checkpoints = worklist.checkpoints_by_ref(session, [t.task for t in tasks])
    ids = {t.instance.subject_id for t in tasks} | {
        t.on_behalf_of_id for t in tasks if t.on_behalf_of_id is not None
    } | {r.person_id for r in requests.values()} | {e.person_id for e in exits.values()}
    people = (
        {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}
    )
    today = clock.today()
    rows = []
    for item in tasks:
        task, instance = item.task, item.instance
        spec = registry.compiled(session, instance.definition_id).spec
        state = spec.states.get(task.state)
        subject = person_name(people.get(instance.subject_id), locale)
        title = instance.title
        if instance.id in plans:
            work = worklist.describe(task, plans[instance.id], spec,
                                     checkpoints.get(task.ref), subject, locale)
            what, form, url = work.what, work.form, work.url
        elif instance.id in requests:
            request = requests[instance.id]
            what, form, url = _promotion_work(session, task, instance, spec, request,
                                              people.get(request.person_id), locale, registry)
            title = ""  # the row names the person and the title, in the reader's language
        elif instance.id in exits:
            exit_ = exits[instance.id]
            what, form, url = _exit_work(session, task, instance, spec, exit_,
                                         people.get(exit_.person_id), locale, registry)
            title = ""
        else:
            what, form, url = _instance_work(task, instance, spec, locale)
        due_day = task.due_at.astimezone(clock.zone()).date() if task.due_at else None
        rows.append(TaskRow(
            task_id=task.id,
            instance_id=instance.id,
            what=what,
            title=title,
            workflow=instance.workflow,
            workflow_label=pick_label(spec.label, locale),
            state=task.state,
            state_label=pick_label(state.label, locale) if state else task.state,
            kind=task.kind,
            subject_id=instance.subject_id,
            subject_name=subject,
            due_at=task.due_at,
            overdue=item.overdue,
            due_today=due_day == today and not item.overdue,
            on_behalf_of_id=item.on_behalf_of_id,
            on_behalf_of_name=person_name(people.get(item.on_behalf_of_id), locale),
            url=url,
            form=form,
        ))
    return rows
