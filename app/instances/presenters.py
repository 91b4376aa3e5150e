"""An instance as the reader sees it: labels in their language, names, actions with forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.engine.definitions import SignOffSpec, TransitionSpec, WorkflowSpec
from app.engine.models import Task, WorkflowInstance
from app.engine.registry import Registry
from app.i18n import N_, gettext_for, pick_label
from app.instances import service
from app.instances.route import RouteView, route_view
from app.org.models import OrgUnit, Person
from app.web.forms import FieldView, FormState, spec_field
from app.web.labels import person_name, seat_label, unit_name

SPECIAL_TRIGGERS = {
    "start": N_("Started"),
    "sign_offs_voided": N_("Signatures voided"),
    "edit_gap": N_("Gaps changed"),
    "edit_gap_decision": N_("Decided whether a gap enters the plan"),
    "edit_cause": N_("Causes changed"),
    "edit_method": N_("Methods changed"),
    "edit_details": N_("Goal, resources or period changed"),
    "edit_step": N_("Steps changed"),
    "edit_review": N_("Review written"),
    "checkpoint_recorded": N_("Checkpoint recorded"),
    "checkpoint_checked": N_("Checkpoint checked"),
    "opened_from_assessment": N_("Opened from an assessment result"),
    "remind_now": N_("Reminder sent by HR"),
    "reassign": N_("Task handed over by HR"),
}
MEANING_LABELS = {
    "agree": N_("I agree"),
    "acknowledge": N_("I acknowledge it, with my disagreement noted"),
}


@dataclass
class ActionView:
    """An action the reader may take now, with its form."""

    trigger: str
    label: str
    style: str
    on_behalf_of_id: int | None
    on_behalf_of_name: str
    sign_off: bool
    fields: list[FieldView]
    message: str = ""
    optional: bool = False  # a side action (send back, cancel), never the case's next step


@dataclass
class EventView:
    """One line of the audit timeline."""

    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str
    on_behalf_of_id: int | None
    on_behalf_of_name: str
    trigger: str
    action_label: str
    from_state: str | None
    from_label: str
    to_state: str
    to_label: str
    comment: str
    payload: dict[str, Any] = field(default_factory=dict)
    payload_hash: str = ""
    prev_hash: str = ""
    hash: str = ""
    sealed_at: str = ""
    count: int = 1  # repeated edits by one person, shown once ("Causes changed ×3")
    first_at: datetime | None = None


@dataclass
class TaskView:
    """Who the instance waits on."""

    id: int
    state: str
    state_label: str
    kind: str
    who: str
    due_at: datetime | None
    overdue: bool
    since: datetime | None = None
    assignee_id: int | None = None
    actor_expr: str = ""
    ref: str = ""


@dataclass
class InstanceView:
    """Everything the instance page and the instance API show."""

    id: int
    title: str
    workflow: str
    workflow_label: str
    definition_version: int
    state: str
    state_label: str
    terminal: bool
    version: int
    subject_id: int
    subject_name: str
    unit_name: str
    created_at: datetime
    closed_at: datetime | None
    events: list[EventView] = field(default_factory=list)
    tasks: list[TaskView] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)
    route: RouteView = field(default_factory=RouteView)

    @property
    def history(self) -> list[EventView]:
        """The timeline as a person reads it: one person's repeated edits in a row shown once."""
        return grouped_history(self.events)


def sealed_at(at: datetime) -> str:
    """An event's time exactly as its hash seals it."""
    return at.isoformat(timespec="microseconds")


def case_links(instance: WorkflowInstance) -> dict[str, int | None]:
    """The domain records a case carries (ids kept in its context by the domains)."""
    found = {}
    for key in ("plan_id", "promotion_request_id"):
        value = instance.context.get(key)
        found[key] = value if isinstance(value, int) else None
    return found


def api_actions(actions: list[ActionView], url: str) -> list[dict[str, Any]]:
    """Actions as the API describes them: typed fields with exactly the choices one may send;
    `url` is where they are taken ({trigger} filled in)."""
    return [{
        "trigger": a.trigger, "label": a.label, "style": a.style,
        "on_behalf_of_id": a.on_behalf_of_id, "sign_off": a.sign_off,
        "url": url.format(trigger=a.trigger),
        "fields": [{"name": f.name, "label": f.label, "type": f.type, "required": f.required,
                    "help": f.help, "max_length": f.max_length, "min": f.min, "max": f.max,
                    "choices": [{"value": v, "label": label} for v, label in f.choices]}
                   for f in a.fields],
    } for a in actions]


def state_label(spec: WorkflowSpec, state: str | None, locale: str) -> str:
    """A state's label (its name when the version no longer has it)."""
    if state is None:
        return ""
    found = spec.states.get(state)
    return pick_label(found.label, locale) if found else state


def action_label(spec: WorkflowSpec, trigger: str, locale: str) -> str:
    """An action's label, including the engine's own events."""
    if trigger in SPECIAL_TRIGGERS:
        return gettext_for(locale)(SPECIAL_TRIGGERS[trigger])
    found = spec.transition(trigger)
    return pick_label(found.label, locale) if found else trigger


def verb_label(spec: WorkflowSpec, trigger: str, state: str | None, locale: str) -> str:
    """The words on an action's button: its verb from the workflow file, else its label."""
    found = (spec.transition(trigger, state) if state else None) or spec.transition(trigger)
    return pick_label(found.button, locale) if found else action_label(spec, trigger, locale)


def task_transition(spec: WorkflowSpec, task: Task) -> TransitionSpec | None:
    """The action an open task waits for: the step's own action for the task's actor."""
    for t in spec.transitions_from(task.state) if task.state in spec.states else []:
        if t.optional:
            continue
        if task.kind == "sign_off":
            if t.sign_offs and (not task.actor_expr
                                or any(s.signer == task.actor_expr for s in t.sign_offs)):
                return t
        elif not t.sign_offs and (not task.actor_expr or task.actor_expr in t.actors):
            return t
    return None


def grouped_history(events: list[EventView]) -> list[EventView]:
    """Consecutive edits of the same kind by the same person folded into one line with a count."""
    out: list[EventView] = []
    for e in events:
        last = out[-1] if out else None
        if (last is not None and e.trigger.startswith("edit_") and e.trigger == last.trigger
                and (e.actor_id, e.on_behalf_of_id) == (last.actor_id, last.on_behalf_of_id)
                and not e.comment and not last.comment):
            out[-1] = EventView(**{**last.__dict__, "at": e.at, "count": last.count + 1,
                                   "first_at": last.first_at or last.at})
            continue
        out.append(e)
    return out


def sign_off_fields(slot: SignOffSpec, locale: str, state: FormState) -> list[FieldView]:
    """A signature's own inputs: which meaning (when there is a choice), and a disagreement."""
    gettext = gettext_for(locale)
    meanings: list[str] = list(getattr(slot, "meanings", [slot.meaning]))
    fields: list[FieldView] = []
    if len(meanings) > 1:
        fields.append(FieldView(
            name="meaning", label=gettext("Your signature"), type="choice", required=True,
            value=state.values.get("meaning", meanings[0]), error=state.errors.get("meaning", ""),
            choices=[(m, gettext(MEANING_LABELS.get(m, m))) for m in meanings],
        ))
    if "acknowledge" in meanings:
        fields.append(FieldView(
            name="disagreement", label=gettext("What you disagree with"), type="textarea",
            value=state.values.get("disagreement", ""),
            error=state.errors.get("disagreement", ""), max_length=5000,
        ))
    return fields


def payload_names(spec: WorkflowSpec, trigger: str, state: str) -> list[str]:
    """The form inputs an action reads from a posted form."""
    t = spec.transition(trigger, state) or spec.transition(trigger)
    if t is None:
        return []
    names = list(t.form)
    if t.sign_offs:
        names += ["meaning", "disagreement"]
    return names


def _people(session: Session, ids: set[int | None]) -> dict[int, Person]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))}


def _units(session: Session, ids: set[int | None]) -> dict[int, OrgUnit]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids)))}


def instance_view(
    session: Session,
    instance: WorkflowInstance,
    reader: Person,
    locale: str,
    registry: Registry,
    *,
    form_trigger: str | None = None,
    form_state: FormState | None = None,
    actions: list[runtime.Action] | None = None,
    tasks: list[Task] | None = None,
) -> InstanceView:
    """Build the reader's view; `form_state` refills the form of `form_trigger` after an error;
    `actions` and `tasks`: the reader's actions and the open tasks when the caller has them."""
    compiled = registry.compiled(session, instance.definition_id)
    spec = compiled.spec
    trail = service.events(db_session=session, instance=instance)
    if tasks is None:
        tasks = service.open_tasks(db_session=session, instance=instance)
    if actions is None:
        actions = runtime.available_actions(session, instance, reader, registry)
    people = _people(session, {instance.subject_id}
                     | {e.actor_id for e in trail} | {e.on_behalf_of_id for e in trail}
                     | {t.assignee_id for t in tasks} | {a.on_behalf_of_id for a in actions})
    units = _units(session, {instance.org_unit_id} | {t.org_unit_id for t in tasks})
    now = clock.now()
    view = InstanceView(
        id=instance.id,
        title=instance.title,
        workflow=instance.workflow,
        workflow_label=pick_label(spec.label, locale),
        definition_version=compiled.version,
        state=instance.state,
        state_label=state_label(spec, instance.state, locale),
        terminal=spec.states[instance.state].terminal if instance.state in spec.states else False,
        version=instance.version,
        subject_id=instance.subject_id,
        subject_name=person_name(people.get(instance.subject_id), locale),
        unit_name=unit_name(units.get(instance.org_unit_id), locale),
        created_at=instance.created_at,
        closed_at=instance.closed_at,
    )
    for e in trail:
        view.events.append(EventView(
            seq=e.seq, at=e.at, actor_id=e.actor_id,
            actor_name=person_name(people.get(e.actor_id), locale),
            on_behalf_of_id=e.on_behalf_of_id,
            on_behalf_of_name=person_name(people.get(e.on_behalf_of_id), locale),
            trigger=e.trigger, action_label=action_label(spec, e.trigger, locale),
            from_state=e.from_state, from_label=state_label(spec, e.from_state, locale),
            to_state=e.to_state, to_label=state_label(spec, e.to_state, locale),
            comment=e.comment, payload=e.payload, payload_hash=e.payload_hash,
            prev_hash=e.prev_hash, hash=e.hash, sealed_at=sealed_at(e.at),
        ))
    for t in tasks:
        if t.assignee_id is not None:
            who = person_name(people.get(t.assignee_id), locale)
        elif t.group_kind and t.group_name:
            who = (f"{seat_label(t.group_kind, t.group_name, registry.vocabulary, locale)}"
                   f" · {unit_name(units.get(t.org_unit_id), locale)}")
        else:
            who = gettext_for(locale)("Nobody fits this step yet")
        view.tasks.append(TaskView(
            id=t.id, state=t.state, state_label=state_label(spec, t.state, locale), kind=t.kind,
            who=who, due_at=t.due_at, overdue=t.due_at is not None and t.due_at < now,
            since=t.created_at, assignee_id=t.assignee_id, actor_expr=t.actor_expr, ref=t.ref,
        ))
    for action in actions:
        t = action.transition
        state = form_state if (form_state and t.trigger == form_trigger) else FormState()
        fields = [spec_field(name, spec.fields[name], locale, state) for name in t.form]
        if action.sign_off is not None:
            fields += sign_off_fields(action.sign_off, locale, state)
        view.actions.append(ActionView(
            trigger=t.trigger, label=pick_label(t.button, locale), style=t.style,
            on_behalf_of_id=action.on_behalf_of_id,
            on_behalf_of_name=person_name(people.get(action.on_behalf_of_id), locale),
            sign_off=action.sign_off is not None, fields=fields, message=state.message,
            optional=t.optional,
        ))
    visited = [s for e in trail for s in (e.from_state, e.to_state) if s]
    view.route = route_view(spec, instance.state, instance.context or {}, visited, locale)
    return view
