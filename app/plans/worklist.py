"""What an open task on a plan asks of a person, as a verb naming the thing and its date, and
which form on the plan page takes it (`?do=<form id>` opens the page at that form)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_skeleton
from sqlmodel import Session, select

from app.engine.definitions import WorkflowSpec
from app.engine.models import Task
from app.i18n import N_, gettext_for, pick_label
from app.instances.presenters import task_transition
from app.plans.models import Checkpoint, ImprovementPlan

RECORD, CHECK = "checkpoint_record", "checkpoint_check"
# What the person acting in a state does next, when the state's action alone does not say it.
STATE_WORK = {
    "draft": N_("Record the performance gaps"),
    "gap_identified": N_("Decide on the gaps and analyse their causes"),
    "causes_analysed": N_("Choose the improvement methods"),
    "methods_chosen": N_("Set the goal, the period and the dated steps"),
    "plan_drafted": N_("Send the plan for both signatures"),
    "plan_agreed": N_("Start carrying out the plan"),
    "in_progress": N_("Write the period-end review and submit it"),
    "under_review": N_("Assess the period-end review"),
    "hr_decision": N_("Decide how the plan goes on after cycle {cycle}"),
}
REVIEW_FORM = "review"  # `?do=review`: the review form and the submit-for-review action together
REVIEW_FORM_ID = "review-form"


@dataclass
class PlanWork:
    """One task in words: what to do, and the form that does it."""

    what: str
    form: str  # the form's id on the page: "action-sign", "checkpoint-12-progress", …
    url: str


def short_date(day: date | None, locale: str) -> str:
    """A day the way a person says it: 3月2日 / Mar 2."""
    if day is None:
        return ""
    return format_skeleton("MMMd", day, locale="zh_CN" if locale.startswith("zh") else "en")


def checkpoints_by_ref(session: Session, tasks: list[Task]) -> dict[str, Checkpoint]:
    """The checkpoints that checkpoint tasks point at, in one query."""
    ids = [int(t.ref.split(":", 1)[1]) for t in tasks
           if t.ref.startswith("checkpoint:") and t.ref.split(":", 1)[1].isdigit()]
    if not ids:
        return {}
    return {f"checkpoint:{c.id}": c
            for c in session.exec(select(Checkpoint).where(Checkpoint.id.in_(ids)))}


def describe(task: Task, plan: ImprovementPlan, spec: WorkflowSpec,
             checkpoint: Checkpoint | None, subject_name: str, locale: str) -> PlanWork:
    """What the task asks, in the reader's language, and where the plan page takes it."""
    gettext = gettext_for(locale)
    base = f"/plans/{plan.id}"
    if task.kind in (RECORD, CHECK) and checkpoint is not None:
        day = short_date(checkpoint.due_on, locale)
        if task.kind == RECORD:
            form = f"checkpoint-{checkpoint.id}-progress"
            what = gettext("Record progress for the {date} checkpoint").format(date=day)
        else:
            form = f"checkpoint-{checkpoint.id}-check"
            what = gettext("Check {name}'s {date} checkpoint").format(name=subject_name,
                                                                      date=day)
        return PlanWork(what, form, f"{base}?do={form}")
    t = task_transition(spec, task)
    if task.kind == "sign_off":
        return PlanWork(gettext("Sign plan version {number}").format(number=plan.content_version),
                        f"action-{t.trigger if t else 'sign'}",
                        f"{base}?do=action-{t.trigger if t else 'sign'}")
    if task.state == "in_progress":
        return PlanWork(gettext(STATE_WORK["in_progress"]), REVIEW_FORM_ID,
                        f"{base}?do={REVIEW_FORM}")
    form = f"action-{t.trigger}" if t else ""
    if task.state in STATE_WORK:
        what = gettext(STATE_WORK[task.state]).format(cycle=plan.cycle)
    else:
        what = pick_label(t.button, locale) if t else ""
    return PlanWork(what, form, f"{base}?do={form}" if form else base)
