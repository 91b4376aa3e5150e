"""What an open task is about: a step of its workflow, or an item a domain keeps (a checkpoint).

Reminders, escalations and their links name a task by its topic. The engine's own tasks ("act",
"sign_off") are about the step their state is; a domain that opens tasks of its own kind
registers a finder here, so a mail names its item and leads to the page where it is done,
never to a workflow action the task is not about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session

from app.engine.models import Task, WorkflowInstance
from app.i18n import Message

ENGINE_KINDS = ("act", "sign_off")  # tasks whose action is a transition of the workflow


@dataclass(frozen=True)
class TopicAction:
    """Where a domain task is done: a page of the application, with what the button says."""

    label: Message
    path: str


@dataclass(frozen=True)
class TaskTopic:
    """One thing a person is asked to do, named the same in every mail about it.

    `key` identifies it within its case (tasks with the same key merge into one mail per
    person); `name` and `title` may hold dates, shown in the reader's language.
    """

    key: str  # set by `topic_of` (a finder may leave it empty)
    name: Message  # in a sentence: "the step “In progress”", "the checkpoint of 3 December"
    title: Message | None = None  # before the case in a subject line (None: the case alone)
    actions: list[TopicAction] = field(default_factory=list)
    day: date | None = None  # the item's own date, when it has one


TopicFinder = Callable[[Session, WorkflowInstance, Task], "TaskTopic | None"]

# Finders by task kind, registered by the domain that opens such tasks.
DOMAIN_TOPICS: dict[str, TopicFinder] = {}


def is_engine_task(task: Task) -> bool:
    """Whether a task waits for one of the workflow's own actions."""
    return task.kind in ENGINE_KINDS


def step_key(state: str) -> str:
    """The topic key of a workflow step."""
    return f"step:{state}"


def topic_key(task: Task) -> str:
    """The identity of what a task is about within its case: tasks with the same key are one
    thing to remind of (a person gets one mail per thing and rung)."""
    if is_engine_task(task):
        return step_key(task.state)
    return f"{task.kind}:{task.ref or task.id}"


def topic_of(session: Session, instance: WorkflowInstance, task: Task,
             state_label: dict[str, str] | None = None) -> TaskTopic | None:
    """The topic of a task: its step (engine tasks), its domain's item, or None when no one
    says what a task of this kind is about (then nothing may be offered for it)."""
    if is_engine_task(task):
        return TaskTopic(step_key(task.state),
                         Message("the step “{state}”", {"state": state_label or task.state}))
    finder = DOMAIN_TOPICS.get(task.kind)
    found = finder(session, instance, task) if finder else None
    return replace(found, key=topic_key(task)) if found else None
