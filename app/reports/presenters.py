"""Report numbers in the reader's language: labels, table rows and the charts beside them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date, format_skeleton
from markupsafe import Markup
from sqlmodel import Session, col, select

from app.engine.definitions import WorkflowSpec
from app.engine.registry import Registry
from app.i18n import N_, gettext_for, pick_label
from app.org.models import OrgUnit, Person
from app.promotions.models import PromotionRound
from app.promotions.schemes import schemes_of
from app.reports import charts
from app.reports.aging import BUCKET_KEYS, BUCKETS
from app.reports.lists import PlanRow, TaskRow, waiting_key
from app.reports.service import PLAN_WORKFLOW, Dashboard, WaitingLine
from app.web.labels import person_name, seat_label, unit_name

OUTCOME_LABELS = {
    "closed": N_("Closed, requirement met"),
    "next_cycle": N_("Continued in a new cycle"),
    "closed_by_hr": N_("Closed by HR decision"),
    "closed_by_hr:rotation": N_("HR decision: rotation"),
    "closed_by_hr:change_of_post": N_("HR decision: change of post"),
    "closed_by_hr:replacement": N_("HR decision: replacement"),
    "cancelled": N_("Cancelled"),
}
OUTCOME_COLOURS = {"closed": charts.MET, "next_cycle": charts.CONTINUED,
                   "closed_by_hr": charts.DECIDED, "cancelled": charts.CANCELLED}
DEFAULT_CYCLE_WARNING = 2
FOLD_AFTER = 7  # a table with more rows starts folded on a phone, its summary saying what it holds
DEFAULT_CYCLE_LIMIT = 3


@dataclass
class Table:
    """The numbers of one chart, as the table shown beside it."""

    header: list[str]
    rows: list[list[Any]]
    links: list[str | None] = field(default_factory=list)  # per row: drill-down or list link
    total: list[Any] | None = None


@dataclass
class Panel:
    """A dashboard panel: a chart and the same numbers as a table."""

    key: str
    title: str
    chart: Markup
    table: Table
    note: str = ""
    fold: str = ""  # when set, the table folds (on a phone) under this summary


class Labels:
    """Cached label look-ups for one request."""

    def __init__(self, session: Session, registry: Registry, locale: str) -> None:
        self.session = session
        self.registry = registry
        self.locale = locale
        self.gettext = gettext_for(locale)
        self._specs: dict[int, WorkflowSpec] = {}

    def spec(self, definition_id: int) -> WorkflowSpec:
        """The workflow version an instance runs on."""
        if definition_id not in self._specs:
            self._specs[definition_id] = self.registry.compiled(self.session,
                                                                definition_id).spec
        return self._specs[definition_id]

    def current_spec(self, workflow: str) -> WorkflowSpec | None:
        """Today's file of a workflow."""
        loaded = self.registry.files.get(workflow)
        return loaded.spec if loaded else None

    def state(self, spec: WorkflowSpec | None, state: str) -> str:
        """A step's label."""
        found = spec.states.get(state) if spec else None
        return pick_label(found.label, self.locale) if found else state

    def workflow(self, spec: WorkflowSpec | None, workflow: str) -> str:
        """A workflow's label."""
        return pick_label(spec.label, self.locale) if spec else workflow

    def name(self, zh: str | None, en: str | None) -> str:
        """A name in the reader's language."""
        return (zh or "") if self.locale == "zh_CN" or not en else en

    def waiting(self, assignee_id: int | None, kind: str | None, name: str | None,
                unit: OrgUnit | None, person: Person | None) -> str:
        """Whom a task waits on: a person, or a role/committee at a unit."""
        if assignee_id is not None:
            return person_name(person, self.locale) or f"#{assignee_id}"
        if kind and name:
            seat = seat_label(kind, name, self.registry.vocabulary, self.locale)
            return f"{seat} · {unit_name(unit, self.locale)}" if unit else seat
        return self.gettext("Nobody (no one holds the role)")


def _bucket_labels(gettext: Callable[[str], str]) -> list[str]:
    return [gettext(label) for _key, label, *_rest in BUCKETS]


def _unit_panel(board: Dashboard, labels: Labels, link: Callable[..., str]) -> Panel:
    _ = labels.gettext
    names, rows, links = [], [], []
    for line in board.by_unit:
        name = unit_name(line.unit, labels.locale)
        if line.own:
            name = _("{unit} (own cases)").format(unit=name)
        names.append(name)
        rows.append([name, line.total, *[line.buckets[k] for k in BUCKET_KEYS]])
        links.append(link(unit=line.unit.id) if line.drillable and not line.own else None)
    buckets = _bucket_labels(_)
    series = [(buckets[i], [line.buckets[k] for line in board.by_unit])
              for i, k in enumerate(BUCKET_KEYS)]
    chart = charts.bar_chart(_("Overdue tasks by unit"), names, series, horizontal=True,
                             stacked=True, colors=charts.OVERDUE_SHADES)
    total = [_("Total"), board.overdue_total, *[board.aging[k] for k in BUCKET_KEYS]]
    return Panel("by_unit", _("Overdue tasks by unit"), chart,
                 Table([_("Unit"), _("Overdue"), *buckets], rows, links, total))


def _aging_panel(board: Dashboard, labels: Labels, overdue_link: Callable[..., str]) -> Panel:
    _ = labels.gettext
    buckets = _bucket_labels(_)
    values = [board.aging[k] for k in BUCKET_KEYS]
    chart = charts.bar_chart(_("Overdue tasks by working days overdue"), buckets,
                             [(_("Overdue"), values)], horizontal=True, colors=[charts.OVERDUE])
    rows = [[label, value] for label, value in zip(buckets, values, strict=True)]
    links = [overdue_link(bucket=key) for key in BUCKET_KEYS]
    return Panel("aging", _("Aging in working days"), chart,
                 Table([_("Working days overdue"), _("Tasks")], rows, links,
                       [_("Total"), board.overdue_total]))


def waiting_labels(session: Session, labels: Labels, lines: list[WaitingLine]) -> list[str]:
    """Labels of the 'stuck with whom' lines."""
    people = {p.id: p for p in session.exec(select(Person).where(
        col(Person.id).in_({w.assignee_id for w in lines if w.assignee_id})))}
    units = {u.id: u for u in session.exec(select(OrgUnit).where(
        col(OrgUnit.id).in_({w.group_unit_id for w in lines if w.group_unit_id})))}
    return [labels.waiting(w.assignee_id, w.group_kind, w.group_name,
                           units.get(w.group_unit_id), people.get(w.assignee_id))
            for w in lines]


def _waiting_panel(session: Session, board: Dashboard, labels: Labels,
                   overdue_link: Callable[..., str]) -> Panel:
    _ = labels.gettext
    names = waiting_labels(session, labels, board.waiting)
    chart = charts.bar_chart(_("Overdue tasks by whom they wait on"), names,
                             [(_("Overdue"), [w.count for w in board.waiting])], horizontal=True,
                             colors=[charts.OVERDUE])
    rows = [[name, w.count, w.oldest_due] for name, w in zip(names, board.waiting, strict=True)]
    links = [overdue_link(waiting=waiting_key(w.assignee_id, w.group_kind, w.group_name,
                                              w.group_unit_id)) for w in board.waiting]
    note = _("Only the {n} with the most overdue tasks are shown.").format(n=len(board.waiting)) \
        if board.waiting_truncated else ""
    return Panel("waiting", _("Stuck with whom"), chart,
                 Table([_("Waiting on"), _("Overdue"), _("Oldest due date")], rows, links),
                 note)


def cycle_rule(labels: Labels) -> tuple[int, int]:
    """The cycle number that warns and the one that goes to HR (workflow parameters)."""
    spec = labels.current_spec(PLAN_WORKFLOW)
    params = spec.parameters if spec else {}
    return (int(params.get("cycle_warning", DEFAULT_CYCLE_WARNING)),
            int(params.get("cycle_limit", DEFAULT_CYCLE_LIMIT)))


def _cycle_panel(board: Dashboard, labels: Labels, plans_link: Callable[..., str]) -> Panel:
    _ = labels.gettext
    warning, limit = cycle_rule(labels)
    names = [_("Cycle {n}").format(n=cycle) for cycle, _n in board.plans_by_cycle]
    chart = charts.bar_chart(_("Open plans by cycle"), names,
                             [(_("Open plans"), [n for _c, n in board.plans_by_cycle])],
                             colors=[charts.BRAND])

    def flag(cycle: int) -> str:
        if cycle >= limit:
            return _("HR decides after this cycle")
        return _("Limit is near") if cycle >= warning else ""

    rows = [[name, n, flag(cycle)]
            for name, (cycle, n) in zip(names, board.plans_by_cycle, strict=True)]
    links = [plans_link(cycle=cycle, status="open") for cycle, _n in board.plans_by_cycle]
    note = _("From cycle {warning} the plan page warns; from cycle {limit} a review without "
             "success goes to an HR decision.").format(warning=warning, limit=limit)
    return Panel("cycles", _("Plans by cycle"), chart,
                 Table([_("Cycle"), _("Open plans"), _("Rule")], rows, links,
                       [_("Total"), sum(n for _c, n in board.plans_by_cycle), ""]), note)


def _outcome_panel(board: Dashboard, labels: Labels) -> Panel:
    _ = labels.gettext
    names = [_(OUTCOME_LABELS[key]) if key in OUTCOME_LABELS else key
             for key, _n in board.outcomes]
    chart = charts.pie_chart(_("Plan outcomes"), list(zip(names, [n for _k, n in board.outcomes],
                                                          strict=True)),
                             colors=[OUTCOME_COLOURS.get(key.partition(":")[0], charts.BRAND)
                                     for key, _n in board.outcomes])
    rows = [[name, n] for name, (_k, n) in zip(names, board.outcomes, strict=True)]
    return Panel("outcomes", _("Plan outcomes"), chart,
                 Table([_("Outcome"), _("Plans")], rows, [],
                       [_("Total"), sum(n for _k, n in board.outcomes)]))


def _promotion_panel(board: Dashboard, labels: Labels) -> Panel | None:
    _ = labels.gettext
    if board.promotion is None:
        return None
    names, rows = [], []
    for workflow, state, n in board.promotion.steps:
        spec = labels.current_spec(workflow)
        # the step first: a chart label cut to fit a phone still tells the bars apart (the
        # routes' long names share their first words; the table has both in full)
        name = f"{labels.state(spec, state)} · {labels.workflow(spec, workflow)}"
        names.append(name)
        rows.append([labels.workflow(spec, workflow), labels.state(spec, state), n])
    chart = charts.bar_chart(_("Promotion requests by step"), names,
                             [(_("Requests"), [n for *_x, n in board.promotion.steps])],
                             horizontal=True, colors=[charts.BRAND])
    title = _("Promotion round: {round}").format(
        round=round_label(board.promotion.round, labels.registry, labels.locale))
    return Panel("promotion", title, chart,
                 Table([_("Route"), _("Step"), _("Requests")], rows, [],
                       [_("Total"), "", sum(n for *_x, n in board.promotion.steps)]))


def round_label(round_: PromotionRound, registry: Registry, locale: str) -> str:
    """A promotion round as people name it: its scheme's label and year (never the scheme id)."""
    scheme = schemes_of(registry).get(round_.scheme)
    name = pick_label(scheme.label, locale) if scheme else gettext_for(locale)("Promotion")
    return f"{name} {round_.year}"


def _trend_panel(board: Dashboard, labels: Labels) -> Panel:
    _ = labels.gettext
    babel_locale = "zh_CN" if labels.locale == "zh_CN" else "en"
    days = [format_skeleton("MMMd", day, locale=babel_locale) for day, _n in board.trend]
    chart = charts.line_chart(_("Overdue tasks over time"), days,
                              [(_("Overdue"), [n for _d, n in board.trend])],
                              colors=[charts.OVERDUE]) if board.trend else Markup("")
    rows = [[format_date(day, "medium", locale=babel_locale), n] for day, n in board.trend]
    note = "" if board.trend else _("No daily snapshot has been taken yet.")
    fold = _("Daily figures, {days} days; latest {day}: {count} overdue").format(
        days=len(rows), day=rows[-1][0], count=rows[-1][1]) if len(rows) > FOLD_AFTER else ""
    return Panel("trend", _("Trend of overdue work"), chart,
                 Table([_("Day"), _("Overdue")], rows), note, fold)


def dashboard_panels(session: Session, board: Dashboard, registry: Registry, locale: str,
                     link: Callable[..., str], overdue_link: Callable[..., str],
                     plans_link: Callable[..., str]) -> list[Panel]:
    """Every panel of the dashboard, in reading order."""
    labels = Labels(session, registry, locale)
    panels = [
        _unit_panel(board, labels, link),
        _waiting_panel(session, board, labels, overdue_link),
        _aging_panel(board, labels, overdue_link),
        _trend_panel(board, labels),
        _cycle_panel(board, labels, plans_link),
        _outcome_panel(board, labels),
    ]
    promotion = _promotion_panel(board, labels)
    if promotion is not None:
        panels.append(promotion)
    return panels


PLAN_HEADER = (N_("Plan"), N_("Employee no."), N_("Employee"), N_("Unit"), N_("Plan title"),
               N_("Cycle"), N_("Step"), N_("Opened"), N_("Last change"), N_("Closed"))
TASK_HEADER = (N_("Task"), N_("Case"), N_("Workflow"), N_("Step"), N_("Employee"), N_("Unit"),
               N_("Waiting on"), N_("Due date"), N_("Working days overdue"))


def plan_cells(labels: Labels, row: PlanRow) -> list[Any]:
    """One plan as table/export cells."""
    spec = labels.spec(row.definition_id)
    return [row.plan_id, row.employee_no, labels.name(row.employee_name, row.employee_name_en),
            labels.name(row.unit_name, row.unit_name_en), row.title, row.cycle,
            labels.state(spec, row.state), row.opened_at, row.updated_at, row.closed_at]


def task_cells(labels: Labels, row: TaskRow) -> list[Any]:
    """One overdue task as table/export cells."""
    spec = labels.spec(row.definition_id)
    if row.assignee_id is not None:
        waiting = labels.name(row.assignee_name, row.assignee_name_en)
    elif row.group_kind and row.group_name:
        seat = seat_label(row.group_kind, row.group_name, labels.registry.vocabulary,
                          labels.locale)
        waiting = f"{seat} · {labels.name(row.group_unit_name, row.group_unit_name_en)}"
    else:
        waiting = labels.gettext("Nobody (no one holds the role)")
    return [row.task_id, row.title or labels.workflow(spec, row.workflow),
            labels.workflow(spec, row.workflow), labels.state(spec, row.state),
            labels.name(row.subject_name, row.subject_name_en),
            labels.name(row.unit_name, row.unit_name_en), waiting, row.due_at,
            row.overdue_days]
