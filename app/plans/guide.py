"""The guided plan page: which one action the viewer should take next (the card at the top),
who the plan waits on otherwise, and which sections stand open at this stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.definitions import WorkflowSpec
from app.engine.models import Task, WorkflowInstance
from app.i18n import N_, gettext_for
from app.instances.presenters import InstanceView
from app.org.models import Person
from app.plans import worklist
from app.plans.models import Checkpoint, ImprovementPlan
from app.plans.review import REVIEW_STATES

DRAFTING = ("draft", "gap_identified", "causes_analysed", "methods_chosen", "plan_drafted")
# The content sections a stage works on: they stand open, the others are folded.
STAGE_SECTIONS = {
    "draft": {"gaps"}, "gap_identified": {"gaps"}, "causes_analysed": {"methods"},
    "methods_chosen": {"details", "steps"}, "plan_drafted": {"details", "steps"},
    "in_progress": {"checkpoints"}, "under_review": {"review"}, "hr_decision": {"review"},
}
CARD_TITLES = {
    "sign": N_("Sign plan version {number}"),
    "begin": N_("Start carrying out the plan"),
    "assess": N_("Assess the period-end review"),
    "decide": N_("Decide how the plan goes on after cycle {cycle}"),
}


@dataclass
class Todo:
    """One thing still missing before the stage's action, and the section where it is done."""

    text: str
    section: str


@dataclass
class Waiting:
    """Someone the plan waits on, for what, since when."""

    who: str
    what: str
    since: datetime | None
    due_at: datetime | None
    overdue: bool


@dataclass
class Guide:
    """What the plan page leads with for this viewer."""

    card: str  # stage, sign, begin, progress, check, review, assess, decide, act, waiting, ended
    title: str
    form: str = ""  # the form the card holds ("checkpoint-3-progress", "review-form")
    triggers: list[str] = field(default_factory=list)  # workflow actions inside the card
    checkpoint: Checkpoint | None = None
    waiting: list[Waiting] = field(default_factory=list)
    open_sections: set[str] = field(default_factory=set)
    editing: bool = False  # the content's edit forms are shown
    review_started: bool = False  # the review form has its place on the page
    may_record: bool = False
    may_check: bool = False
    may_write_review: bool = False
    shows_content: bool = False  # the card carries the summary of the version to be signed
    todo: list[Todo] = field(default_factory=list)  # what the stage still lacks

    @property
    def forms(self) -> list[str]:
        """Every form id the card holds."""
        return [self.form, *(f"action-{t}" for t in self.triggers)]


def _forward(spec: WorkflowSpec, state: str) -> str | None:
    """The state's own next action (not a side action such as sending back)."""
    return next((t.trigger for t in spec.transitions_from(state) if not t.optional), None)


def stage_todo(state: str, doc: dict[str, Any], gettext: Callable[[str], str]) -> list[Todo]:
    """What the current drafting stage still lacks, each with the section that fixes it."""
    todo: list[Todo] = []
    if state == "draft" and not doc["gaps"]:
        todo.append(Todo(gettext("Record at least one performance gap."), "gaps"))
    if state == "gap_identified":
        for i, gap in enumerate(doc["gaps"], 1):
            if gap["included"] is None:
                todo.append(Todo(gettext("Gap {n}: decide whether it enters the plan.")
                                 .format(n=i), f"gap-{gap['id']}"))
            elif gap["included"] and not gap["causes"]:
                todo.append(Todo(gettext("Gap {n}: analyse at least one cause.").format(n=i),
                                 f"gap-{gap['id']}"))
    if state == "causes_analysed" and not any(m["chosen"] for m in doc["methods"]):
        todo.append(Todo(gettext("Choose at least one method both sides accept."), "methods"))
    if state in ("methods_chosen", "plan_drafted"):
        for key, text in doc["problems"].items():
            section = ("details" if key.startswith(("goal", "period")) else
                       "steps" if key.startswith("steps") else
                       "methods" if key == "methods" else "gaps")
            todo.append(Todo(text, section))
    return todo


def _waiting(view: InstanceView, tasks: dict[int, Task], plan: ImprovementPlan,
             spec: WorkflowSpec, checkpoints: dict[str, Checkpoint], viewer: Person,
             locale: str) -> list[Waiting]:
    out = []
    for t in view.tasks:
        task = tasks.get(t.id)
        if task is None or t.assignee_id == viewer.id:
            continue
        work = worklist.describe(task, plan, spec, checkpoints.get(task.ref), view.subject_name,
                                 locale)
        out.append(Waiting(t.who, work.what, t.since, t.due_at, t.overdue))
    earliest = datetime.min.replace(tzinfo=UTC)
    return sorted(out, key=lambda w: (w.due_at is None, w.due_at or w.since or earliest))


def guide(db: Session, *, plan: ImprovementPlan, instance: WorkflowInstance, view: InstanceView,
          spec: WorkflowSpec, viewer: Person, doc: dict[str, Any], points: list[Checkpoint],
          tasks: list[Task], today: date, locale: str, requested: str | None = None,
          edit: bool = False, resolver: ActorResolver | None = None) -> Guide:
    """The viewer's next action on the plan; `requested` (a form id from My work or a link)
    wins when the viewer may take it; `resolver` shares the page's look-ups."""
    gettext = gettext_for(locale)
    state = instance.state
    actions = {a.trigger for a in view.actions}
    resolver = resolver or ActorResolver(db, instance)

    def fills(expr: str) -> bool:
        return runtime.acts_as(db, resolver, instance, [expr], viewer, None) is not None

    running = state == "in_progress"
    g = Guide(card="waiting", title="",
              may_record=running and fills("subject"),
              may_check=running and fills("subject.supervisor"),
              may_write_review=state in REVIEW_STATES and (fills("subject")
                                                           or fills("subject.supervisor")))
    g.editing = doc["may_edit"] and (state != "plan_proposed" or edit)
    g.open_sections = set(STAGE_SECTIONS.get(state, set()))
    open_points = [c for c in points if c.status == "open"]
    recorded = [c for c in points if c.status == "recorded"]
    # the review starts at the period end, after the last checkpoint, or once it is begun
    g.review_started = state == "under_review" or (running and (
        doc["review"] is not None or not open_points
        or (plan.period_end is not None and plan.period_end <= today)))
    by_ref = {f"checkpoint:{c.id}": c for c in points}

    def checkpoint_card(point: Checkpoint, kind: str) -> Guide:
        g.card, g.checkpoint = kind, point
        g.form = f"checkpoint-{point.id}-{'progress' if kind == 'progress' else 'check'}"
        day = worklist.short_date(point.due_on, locale)
        g.title = (gettext("Record progress for the {date} checkpoint").format(date=day)
                   if kind == "progress" else
                   gettext("Check {name}'s {date} checkpoint").format(name=view.subject_name,
                                                                     date=day))
        return g

    def action_card(trigger: str) -> Guide:
        g.triggers = [trigger]
        if trigger == "sign":
            g.card, g.shows_content = "sign", True
            g.triggers += [t for t in ("send_back",) if t in actions]
        elif trigger == "begin":
            g.card, g.shows_content = "begin", True
        elif trigger == "review":
            g.card = "assess"
            g.triggers += [t for t in ("send_back",) if t in actions]
            g.open_sections.add("review")
        elif trigger == "decide":
            g.card = "decide"
        elif state in DRAFTING and trigger == _forward(spec, state):
            g.card = "stage"
            g.title = gettext(worklist.STATE_WORK[state])
            g.todo = stage_todo(state, doc, gettext)
            return g
        else:
            g.card = "act"
        g.title = (gettext(CARD_TITLES[g.card]).format(number=plan.content_version,
                                                       cycle=plan.cycle)
                   if g.card in CARD_TITLES else next(a.label for a in view.actions
                                                      if a.trigger == trigger))
        return g

    def review_card() -> Guide:
        g.card, g.form, g.review_started = "review", worklist.REVIEW_FORM_ID, True
        g.triggers = [t for t in ("submit_review",) if t in actions]
        g.title = gettext(worklist.STATE_WORK["in_progress"])
        g.open_sections.add("review")
        return g

    # a form named in the address (My work, a reminder) when the viewer may use it
    if requested:
        if requested.startswith("action-") and requested[7:] in actions:
            return action_card(requested[7:])
        if requested == worklist.REVIEW_FORM and g.may_record and "submit_review" in actions:
            return review_card()
        for c in open_points + recorded:
            if g.may_record and requested == f"checkpoint-{c.id}-progress":
                return checkpoint_card(c, "progress")
            if g.may_check and c.status == "recorded" and requested == f"checkpoint-{c.id}-check":
                return checkpoint_card(c, "check")

    if spec.states[state].terminal:
        g.card, g.title = "ended", view.state_label
        return g
    if state in DRAFTING and _forward(spec, state) in actions:
        return action_card(_forward(spec, state))  # type: ignore[arg-type]
    for trigger in ("sign", "begin", "review", "decide"):
        if trigger in actions:
            return action_card(trigger)
    if running:
        due = [c for c in open_points if c.due_on <= today]
        if g.may_record and due:
            return checkpoint_card(due[0], "progress")
        if g.may_check and recorded:
            return checkpoint_card(recorded[0], "check")
        if g.may_record and "submit_review" in actions and g.review_started:
            return review_card()
        if g.may_record and open_points:
            return checkpoint_card(open_points[0], "progress")
    g.card, g.title = "waiting", ""
    g.shows_content = state in ("plan_proposed", "plan_agreed")
    g.waiting = _waiting(view, {t.id: t for t in tasks}, plan, spec, by_ref, viewer, locale)
    return g
