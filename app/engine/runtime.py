"""The engine's one entry point for change: start an instance, fire an action on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from app import clock
from app.engine import audit
from app.engine.actors import ActorResolver, active_principals
from app.engine.definitions import SignOffSpec, TransitionSpec
from app.engine.forms import validate_form
from app.engine.guards import GUARDS, GuardContext
from app.engine.models import SignOff, Task, TaskStatus, WorkflowInstance
from app.engine.registry import CompiledWorkflow, Registry, run_machine
from app.errors import (
    AlreadyDone,
    Incomplete,
    InvalidTransition,
    NotAllowed,
    PreconditionRequired,
    StaleInstance,
    UnknownAction,
    ValidationFailed,
)
from app.i18n import Message
from app.org.models import Person


class GuardFailed(Incomplete):
    """A named guard refused the action; its message says what is missing."""


# The expected version of a write that can race but came without the version it was based on
# (the API's If-Match): refused as "precondition required", never applied last-write-wins.
VERSION_MISSING = -1


def check_version(instance: WorkflowInstance, expected_version: int | None) -> None:
    """Refuse a write based on an older version of the instance, or on no version at all."""
    if expected_version is None or expected_version == instance.version:
        return
    if expected_version == VERSION_MISSING:
        raise PreconditionRequired("Send the version you saw (If-Match: the ETag) with this "
                                   "change, so that nobody's work is overwritten.")
    raise StaleInstance("Someone else acted on this case first. Reload to see what changed.")


@dataclass
class FireResult:
    """What one action did."""

    instance: WorkflowInstance
    from_state: str
    to_state: str
    completed: bool  # False when a sign-off was recorded but others are still needed
    event_id: int
    on_behalf_of_id: int | None
    opened: list[Task] = field(default_factory=list)  # tasks this action opened (written)


@dataclass
class Action:
    """An action a person may take now, and on whose behalf."""

    transition: TransitionSpec
    on_behalf_of_id: int | None
    sign_off: SignOffSpec | None = None


# Called after every state change inside the same transaction (timers, notifications, domain
# reactions register here), so that everything one action causes commits or fails together.
StateHook = Callable[[Session, CompiledWorkflow, WorkflowInstance, FireResult], None]
STATE_HOOKS: list[StateHook] = []

# Called whenever an instance's open tasks change without a state change (a case starts, one of
# several signatures arrives, signatures are voided, a domain opens its own tasks), inside the
# same transaction: reminders plan and cancel their timers here. `opened` lists the tasks the
# engine itself just opened (None when a domain changed tasks and did not say which).
TasksHook = Callable[[Session, CompiledWorkflow, WorkflowInstance, "list[Task] | None"], None]
TASK_HOOKS: list[TasksHook] = []

# Called at the end of every start and action, a sign-off still waiting for others included, in
# the same transaction (metrics count the actions that commit).
FiredHook = Callable[[Session, CompiledWorkflow, WorkflowInstance, str], None]
FIRED_HOOKS: list[FiredHook] = []

# What a signature binds to, per workflow: the hash of the exact content being signed (the plan
# domain freezes a version). Every path that signs (pages, API, emailed links) gets the same.
ContentHasher = Callable[[Session, WorkflowInstance, Person], str]
CONTENT_HASHERS: dict[str, ContentHasher] = {}

# Computes a task's due time from the state's deadline policy (installed by the calendar).
DueCalculator = Callable[[Session, CompiledWorkflow, WorkflowInstance], Any]
due_calculator: list[DueCalculator] = []

_default_registry: Registry | None = None


def set_registry(registry: Registry) -> None:
    """Install the registry the engine uses when none is passed."""
    global _default_registry
    _default_registry = registry


def get_registry() -> Registry:
    """The installed registry (the app and the CLI install one at start-up)."""
    if _default_registry is None:
        from app.config import get_settings

        set_registry(Registry(get_settings().workflows_dir))
    assert _default_registry is not None
    return _default_registry


def start(
    session: Session,
    *,
    workflow: str,
    subject: Person,
    initiator: Person | None = None,
    title: str = "",
    context: dict[str, Any] | None = None,
    registry: Registry | None = None,
    on_behalf_of_id: int | None = None,
) -> WorkflowInstance:
    """Begin a new instance on the workflow's current version and open its first tasks.

    The initiator is who started it (the subject when nobody else did): the audit's first event
    names them, also when an action on another case started this one (the next cycle).
    """
    registry = registry or get_registry()
    compiled = registry.compiled_current(session, workflow)
    now = clock.now()
    instance = WorkflowInstance(
        definition_id=compiled.definition_id,
        workflow=workflow,
        state=compiled.spec.initial,
        title=title,
        subject_id=subject.id,
        initiator_id=(initiator or subject).id,
        org_unit_id=subject.org_unit_id,
        context=dict(context or {}),
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    audit.append(
        session,
        instance_id=instance.id,
        at=now,
        actor_id=(initiator or subject).id,
        on_behalf_of_id=on_behalf_of_id,
        trigger="start",
        from_state=None,
        to_state=instance.state,
        comment="",
        payload={"workflow": workflow, "version": compiled.version},
    )
    resolver = ActorResolver(session, instance)
    opened = _open_tasks(session, compiled, instance, resolver)
    session.flush()
    _tasks_changed(session, compiled, instance, opened)
    for fired in FIRED_HOOKS:
        fired(session, compiled, instance, "start")
    return instance


def tasks_changed(session: Session, instance: WorkflowInstance,
                  registry: Registry | None = None) -> None:
    """Tell the task hooks that a domain opened or closed tasks of this instance itself."""
    registry = registry or get_registry()
    _tasks_changed(session, registry.compiled(session, instance.definition_id), instance)


def _tasks_changed(session: Session, compiled: CompiledWorkflow,
                   instance: WorkflowInstance, opened: list[Task] | None = None) -> None:
    for hook in TASK_HOOKS:
        hook(session, compiled, instance, opened)


def _signed(session: Session, instance: WorkflowInstance, trigger: str) -> list[SignOff]:
    return list(
        session.exec(
            select(SignOff).where(
                SignOff.instance_id == instance.id,
                SignOff.state == instance.state,
                SignOff.trigger == trigger,
                SignOff.voided_at.is_(None),
                SignOff.consumed_at.is_(None),
            )
        )
    )


def acts_as(
    session: Session,
    resolver: ActorResolver,
    instance: WorkflowInstance,
    exprs: list[str],
    actor: Person,
    on_behalf_of_id: int | None,
) -> tuple[str, int | None] | None:
    """The first expression the actor fills: directly, as the person HR handed the open task
    to, or for someone who delegated to them (then with the principal's id)."""
    if on_behalf_of_id is None:
        for expr in exprs:
            if resolver.matches(expr, actor.id):
                return expr, None
        handed = resolver.handed_over(actor.id)
        found = next((expr for expr in exprs if expr in handed), None)
        if found is not None:
            return found, None
    principals = resolver.principals(actor.id, clock.today())
    if on_behalf_of_id is not None:
        principals = [p for p in principals if p == on_behalf_of_id]
    for principal in principals:
        for expr in exprs:
            if resolver.matches(expr, principal):
                return expr, principal
    return None


def _pending_sign_offs(
    session: Session, instance: WorkflowInstance, t: TransitionSpec,
    signed: list[SignOff] | None = None,
) -> list[SignOffSpec]:
    if signed is None:
        signed = _signed(session, instance, t.trigger)
    done = {s.signer_expr for s in signed}
    return [s for s in t.sign_offs if s.signer not in done]


def _allowed(
    session: Session,
    resolver: ActorResolver,
    instance: WorkflowInstance,
    t: TransitionSpec,
    actor: Person,
    on_behalf_of_id: int | None = None,
    signed: list[SignOff] | None = None,
) -> Action | None:
    if t.sign_offs:
        pending = _pending_sign_offs(session, instance, t, signed)
        found = acts_as(session, resolver, instance, [s.signer for s in pending], actor,
                     on_behalf_of_id)
        if found is None:
            return None
        slot = next(s for s in pending if s.signer == found[0])
        return Action(t, found[1], slot)
    found = acts_as(session, resolver, instance, t.actors, actor, on_behalf_of_id)
    return Action(t, found[1]) if found else None


def available_actions(
    session: Session, instance: WorkflowInstance, actor: Person, registry: Registry | None = None,
    only: Callable[[TransitionSpec], bool] | None = None,
    resolver: ActorResolver | None = None,
) -> list[Action]:
    """What this person may do on the instance now (guards are checked when they act);
    `only` narrows the actions considered before anyone is resolved; `resolver` shares the
    look-ups of a page that asks other questions about the same instance."""
    registry = registry or get_registry()
    compiled = registry.compiled(session, instance.definition_id)
    resolver = resolver or ActorResolver(session, instance)
    actions = []
    for t in compiled.spec.transitions_from(instance.state):
        if only is not None and not only(t):
            continue
        action = _allowed(session, resolver, instance, t, actor)
        if action is not None:
            actions.append(action)
    return actions


def fire(
    session: Session,
    instance: WorkflowInstance,
    trigger: str,
    actor: Person,
    payload: dict[str, Any] | None = None,
    *,
    expected_version: int | None = None,
    on_behalf_of_id: int | None = None,
    content_hash: str = "",
    registry: Registry | None = None,
    strict_payload: bool = False,
) -> FireResult:
    """Take one action: permission, guards, form, state change, audit, tasks: all or nothing.

    The caller's unit of work commits; nothing here commits, so a failure leaves nothing behind.
    `strict_payload` refuses fields the action does not collect (the API's callers name them;
    pages only ever send the action's own).
    """
    registry = registry or get_registry()
    compiled = registry.compiled(session, instance.definition_id)
    spec = compiled.spec
    t = spec.transition(trigger, instance.state)
    if t is None and spec.transition(trigger) is None:
        raise UnknownAction("There is no action '{trigger}' in this workflow.", trigger=trigger)
    if t is None:
        t = spec.transition(trigger)
        assert t is not None
        raise InvalidTransition(
            "'{action}' is not possible while the case is in '{state}'.",
            action=dict(t.label),
            state=dict(spec.states[instance.state].label),
        )
    if expected_version != VERSION_MISSING:  # a stale view explains whatever else looks wrong
        check_version(instance, expected_version)

    resolver = ActorResolver(session, instance)
    signed = _signed(session, instance, t.trigger) if t.sign_offs else []
    action = _allowed(session, resolver, instance, t, actor, on_behalf_of_id, signed)
    if action is None:
        raise _refusal(session, resolver, instance, t, actor, on_behalf_of_id, signed)
    check_version(instance, expected_version)

    payload = dict(payload or {})
    if strict_payload:
        _refuse_unexpected(payload, list(t.form) + (list(SIGN_OFF_FIELDS) if action.sign_off
                                                   else []))
    cleaned = validate_form(spec, t.form, payload)
    if action.sign_off is not None:
        cleaned.update(_sign_off_fields(action.sign_off, payload))

    ctx = GuardContext(session=session, instance=instance, actor=actor, payload=cleaned, spec=spec)
    for name in t.guards:
        refusal = GUARDS[name](ctx)
        if refusal is not None:
            raise GuardFailed(refusal.msgid, **refusal.params)

    from_state = instance.state
    now = clock.now()
    completed = True
    if action.sign_off is not None:
        hasher = CONTENT_HASHERS.get(instance.workflow)
        if not content_hash and hasher is not None:
            content_hash = hasher(session, instance, actor)
        earlier = {s.content_hash for s in signed}
        if content_hash and earlier - {content_hash, ""}:
            raise StaleInstance("The content changed after the other signature. Reload and "
                                "read it again before signing.")
        session.add(
            SignOff(
                instance_id=instance.id,
                state=from_state,
                trigger=t.trigger,
                signer_expr=action.sign_off.signer,
                signer_id=action.on_behalf_of_id or actor.id,
                on_behalf_of_id=actor.id if action.on_behalf_of_id else None,
                meaning=cleaned["meaning"],
                disagreement=cleaned.get("disagreement", ""),
                content_hash=content_hash,
                at=now,
            )
        )
        remaining = [s for s in _pending_sign_offs(session, instance, t, signed)
                     if s.signer != action.sign_off.signer]
        completed = not remaining
    to_state = from_state
    if completed:
        moved = run_machine(compiled, from_state, trigger, ctx)
        if moved is None:
            raise InvalidTransition("No route of '{action}' applies to this case.",
                                    action=dict(t.label))
        to_state = moved

    moved_to: dict[str, Any] = {"state": to_state, "updated_at": now}
    if to_state != from_state and spec.states[to_state].terminal:
        moved_to["closed_at"] = now
    decisions = {k: v for k, v in cleaned.items() if k in spec.fields}
    if decisions:
        moved_to["context"] = {**instance.context,
                               **{f"last_{k}": v for k, v in decisions.items()}}
    try:  # version check and row lock first, so the audit chain is ordered
        _move(session, instance, moved_to)
    except StaleDataError as exc:
        raise StaleInstance(
            "Someone else acted on this case first. Reload to see what changed."
        ) from exc
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            raise StaleInstance("The case is busy with another action. Please try again.") from exc
        raise

    event_id = audit.append(
        session,
        instance_id=instance.id,
        at=now,
        actor_id=actor.id,
        on_behalf_of_id=action.on_behalf_of_id,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        comment=str(cleaned.get("comment") or cleaned.get("reason") or ""),
        payload={**cleaned, **({"content_hash": content_hash} if content_hash else {})},
    )
    if completed:
        # Only a state with a sign-off action can hold signatures: skip the query elsewhere.
        if any(x.sign_offs for x in spec.transitions_from(from_state)):
            _consume_sign_offs(session, instance.id, from_state, now)
        _close_tasks(session, instance, actor, None)
        opened = _open_tasks(session, compiled, instance, resolver,
                             entered=to_state != from_state)
    else:
        _close_tasks(session, instance, actor, action.sign_off.signer if action.sign_off else None)
        opened = []
    session.flush()
    result = FireResult(instance, from_state, to_state, completed, event_id,
                        action.on_behalf_of_id, opened)
    if completed:
        for hook in STATE_HOOKS:
            hook(session, compiled, instance, result)
    else:
        _tasks_changed(session, compiled, instance, opened)
    for fired in FIRED_HOOKS:
        fired(session, compiled, instance, trigger)
    return result


def _refusal(session: Session, resolver: ActorResolver, instance: WorkflowInstance,
             t: TransitionSpec, actor: Person, on_behalf_of_id: int | None,
             signed: list[SignOff]) -> InvalidTransition | NotAllowed:
    """Why someone may not take an action, in words that are true for them: acting for a person
    who gave them no delegation, a signature already given, or no part in this step."""
    if on_behalf_of_id is not None and on_behalf_of_id not in active_principals(
            session, actor.id, clock.today(), instance.workflow):
        return NotAllowed("You do not act for this person: no delegation from them covers this "
                          "case today.")
    signer_id = on_behalf_of_id or actor.id
    done = {s.signer_expr for s in signed}
    if any(s.signer in done and resolver.matches(s.signer, signer_id) for s in t.sign_offs):
        if signer_id != actor.id:
            return AlreadyDone("The person you act for has already signed this.")
        return AlreadyDone("You have already signed this.")
    return NotAllowed("You may not take this action on this case.")


def _move(session: Session, instance: WorkflowInstance, values: dict[str, Any]) -> None:
    """Write the instance's new state with its version check (StaleDataError when it lost).

    With nothing else pending in the session this is one prebuilt UPDATE (the hot path of every
    action); otherwise the unit of work writes the caller's changes and these in one flush.
    """
    if session.new or session.dirty or session.deleted:
        for key, value in values.items():
            setattr(instance, key, value)
        session.flush()
        return
    row = {"instance": instance.id, "old_version": instance.version,
           "version": instance.version + 1, "state": values["state"],
           "updated_at": values["updated_at"],
           "closed_at": values.get("closed_at", instance.closed_at),
           "context": values.get("context", instance.context)}
    if session.connection().execute(_move_instance(), row).rowcount != 1:
        raise StaleDataError("workflow_instance changed since it was read")
    for key in ("version", "state", "updated_at", "closed_at", "context"):
        set_committed_value(instance, key, row[key])


@cache
def _move_instance() -> Any:
    table = WorkflowInstance.__table__  # type: ignore[attr-defined]
    return (update(table)
            .where(table.c.id == bindparam("instance"), table.c.version == bindparam("old_version"))
            .values(version=bindparam("version"), state=bindparam("state"),
                    updated_at=bindparam("updated_at"), closed_at=bindparam("closed_at"),
                    context=bindparam("context")))


SIGN_OFF_FIELDS = ("meaning", "disagreement")


def _refuse_unexpected(payload: dict[str, Any], expected: list[str]) -> None:
    unexpected = sorted(set(payload) - set(expected))
    if unexpected:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            name: Message("This field is not expected here.") for name in unexpected})


def _sign_off_fields(slot: SignOffSpec, payload: dict[str, Any]) -> dict[str, Any]:
    """A signature's own fields: its meaning, and a disagreement when only acknowledging."""
    meaning = str(payload.get("meaning") or slot.meanings[0])
    text = str(payload.get("disagreement") or "").strip()
    errors: dict[str, Message] = {}
    if meaning not in slot.meanings:
        errors["meaning"] = Message("Choose one of the offered options.")
    elif text and meaning != "acknowledge":
        errors["disagreement"] = Message("Disagreement is only possible when acknowledging.")
    elif meaning == "acknowledge" and slot.meaning == "agree_or_acknowledge" and not text:
        errors["disagreement"] = Message("Say what you disagree with.")
    elif len(text) > 5000:
        errors["disagreement"] = Message("At most {n} characters.", {"n": 5000})
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    return {"meaning": meaning, **({"disagreement": text} if text else {})}


def record_event(
    session: Session,
    instance: WorkflowInstance,
    *,
    trigger: str,
    actor: Person | None,
    comment: str = "",
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> None:
    """Audit something that changed the case without moving it (an edit, a voided signature)."""
    check_version(instance, expected_version)
    now = clock.now()
    instance.updated_at = now
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleInstance(
            "Someone else acted on this case first. Reload to see what changed."
        ) from exc
    audit.append(
        session,
        instance_id=instance.id,
        at=now,
        actor_id=actor.id if actor else None,
        on_behalf_of_id=None,
        trigger=trigger,
        from_state=instance.state,
        to_state=instance.state,
        comment=comment,
        payload=payload or {},
    )


def void_sign_offs(
    session: Session, instance: WorkflowInstance, actor: Person | None, reason: str,
    registry: Registry | None = None,
) -> int:
    """Void the signatures collected in the current state (the content changed) and ask again."""
    registry = registry or get_registry()
    compiled = registry.compiled(session, instance.definition_id)
    rows = list(
        session.exec(
            select(SignOff).where(
                SignOff.instance_id == instance.id,
                SignOff.state == instance.state,
                SignOff.voided_at.is_(None),
                SignOff.consumed_at.is_(None),
            )
        )
    )
    if not rows:
        return 0
    now = clock.now()
    for row in rows:
        row.voided_at = now
    record_event(session, instance, trigger="sign_offs_voided", actor=actor, comment=reason,
                 payload={"voided": [r.id for r in rows]})
    _close_tasks(session, instance, actor, None, status=TaskStatus.cancelled)
    opened = _open_tasks(session, compiled, instance, ActorResolver(session, instance))
    session.flush()
    _tasks_changed(session, compiled, instance, opened)
    return len(rows)


def _consume_sign_offs(session: Session, instance_id: int, state: str, now: Any) -> None:
    """Signatures belong to one visit of a state: leaving it closes them for good."""
    session.flush()  # signatures added in this unit of work are consumed too
    session.connection().execute(_consume_open_sign_offs(),
                                 {"instance": instance_id, "left_state": state, "now": now})
    # the UPDATE went past the unit of work: loaded signatures of this case re-read the column
    # (read from the loaded state: an expired row is re-read anyway, and must not be fetched)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SignOff) and obj.__dict__.get("instance_id") == instance_id:
            session.expire(obj, ["consumed_at"])


@cache
def _consume_open_sign_offs() -> Any:
    """The consuming UPDATE, built once (Core: one statement, no rows read first)."""
    sign_off = SignOff.__table__  # type: ignore[attr-defined]
    return (update(sign_off)
            .where(sign_off.c.instance_id == bindparam("instance"),
                   sign_off.c.state == bindparam("left_state"),
                   sign_off.c.voided_at.is_(None), sign_off.c.consumed_at.is_(None))
            .values(consumed_at=bindparam("now")))


def _close_tasks(
    session: Session,
    instance: WorkflowInstance,
    actor: Person | None,
    only_expr: str | None,
    status: str = TaskStatus.done,
) -> None:
    """Close the instance's open tasks (or one signer's) in a single UPDATE."""
    session.flush()  # tasks added in this unit of work are closed too
    values = {"instance": instance.id, "status": status, "closed_at": clock.now(),
              "closed_by_id": actor.id if actor else None}
    if only_expr is None:
        session.connection().execute(_close_open_tasks(False), values)
    else:
        session.connection().execute(_close_open_tasks(True), {**values, "expr": only_expr})
    # the UPDATE went past the unit of work: loaded tasks of this instance re-read their status
    # (read from the loaded state: an expired row is re-read anyway, and must not be fetched)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Task) and obj.__dict__.get("instance_id") == instance.id:
            session.expire(obj, ["status", "closed_at", "closed_by_id"])


@cache
def _close_open_tasks(one_signer: bool) -> Any:
    """The closing UPDATE, built once (Core: this runs on every action)."""
    task = Task.__table__  # type: ignore[attr-defined]
    query = update(task).where(task.c.instance_id == bindparam("instance"),
                               task.c.status == TaskStatus.open)
    if one_signer:
        query = query.where(task.c.actor_expr == bindparam("expr"))
    return query.values(status=bindparam("status"), closed_at=bindparam("closed_at"),
                        closed_by_id=bindparam("closed_by_id"))


def _open_tasks(
    session: Session,
    compiled: CompiledWorkflow,
    instance: WorkflowInstance,
    resolver: ActorResolver,
    *,
    entered: bool = False,
) -> list[Task]:
    """Open a task for everyone the current state waits on (optional actions excepted).

    `entered`: the action has just moved the case into this state, so it holds no signatures
    yet (leaving a state consumes them) and nobody needs to be asked whether they signed.
    """
    spec = compiled.spec
    if spec.states[instance.state].terminal:
        return []
    due_at = due_calculator[0](session, compiled, instance) if due_calculator else None
    wanted: dict[tuple[Any, ...], tuple[str, str]] = {}
    for t in spec.transitions_from(instance.state):
        if t.optional:
            continue
        if t.sign_offs:
            for slot in (t.sign_offs if entered else _pending_sign_offs(session, instance, t)):
                wanted.setdefault(("sign_off", slot.signer), ("sign_off", slot.signer))
        else:
            for expr in t.actors:
                wanted.setdefault(("act", expr), ("act", expr))
    seen: set[tuple[Any, ...]] = set()
    opened: list[Task] = []
    for kind, expr in wanted.values():
        assignee = resolver.assignee(expr)
        key = (kind, assignee)
        if key in seen:
            continue
        seen.add(key)
        opened.append(Task(
            instance_id=instance.id,
            state=instance.state,
            kind=kind,
            assignee_id=assignee.person_id if assignee else None,
            group_kind=assignee.group_kind if assignee else None,
            group_name=assignee.group_name if assignee else None,
            org_unit_id=assignee.org_unit_id if assignee else None,
            actor_expr=expr,
            due_at=due_at,
        ))
    if opened:  # one round trip for all of them; the rows are the engine's alone to write
        rows = [{c: getattr(task, c) for c in _TASK_COLUMNS} for task in opened]
        ids = session.connection().execute(_insert_tasks(), rows).scalars().all()
        for task, task_id in zip(opened, ids, strict=True):
            task.id = task_id
    return opened


_TASK_COLUMNS = ("instance_id", "state", "kind", "assignee_id", "group_kind", "group_name",
                 "org_unit_id", "actor_expr", "ref", "status", "due_at", "created_at")


@cache
def _insert_tasks() -> Any:
    """INSERT … RETURNING id, batched into one statement; ids come back in row order."""
    task = Task.__table__  # type: ignore[attr-defined]
    return insert(task).returning(task.c.id, sort_by_parameter_order=True)
