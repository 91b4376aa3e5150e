"""`stepwise scheduler` (the sweep as its own process) and `stepwise simulate` (a dry run).

Register in app/cli.py with `app.command()(scheduler)` and `app.command()(simulate)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from app.cli_support import load_settings
from app.config import Settings
from app.engine import calendar
from app.engine.calendar import WorkingCalendar
from app.engine.definitions import Vocabulary, WorkflowSpec
from app.engine.registry import Registry
from app.i18n import N_, gettext_for, pick_label
from app.reminders.models import TimerKind
from app.reminders.plan import Phase, mails, phase_on
from app.web.labels import actor_label

out = Console(highlight=False, soft_wrap=True)

KIND_LABELS = {
    TimerKind.before_due: N_("reminder before the due day"),
    TimerKind.on_due: N_("reminder on the due day"),
    TimerKind.overdue: N_("overdue reminder"),
    TimerKind.escalation: N_("escalation"),
}
# What the mail says on the day it goes out (the same wording as the mail's subject).
SAYS = {
    Phase.ahead: N_("due on {date}"),
    Phase.last_day: N_("due on {date}; today is the last working day before it"),
    Phase.today: N_("due today"),
    Phase.overdue: N_("overdue by {days} working days"),
    Phase.passed: N_("was due on {date}"),
}


def scheduler(
    once: Annotated[bool, typer.Option("--once", help="Sweep once and exit.")] = False,
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve this process's Prometheus metrics (sweeps, reminders, mail) on this port.",
        min=1, max=65535)] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for --metrics-port.")]
    = "127.0.0.1",
) -> None:
    """Run the reminder and mail sweep on its own, every STEPWISE_SCHEDULER_INTERVAL_SECONDS,
    until Ctrl-C. Several may run at once (PostgreSQL): each message still goes out once."""
    from app.db import make_engine, transaction
    from app.engine import runtime
    from app.models import load_all_models
    from app.observability import actions
    from app.observability.logs import configure_logging
    from app.reminders import hooks
    from app.reminders.jobs import blocking_scheduler, run_sweep

    settings = load_settings()
    configure_logging(settings)
    load_all_models()
    registry = Registry(settings.workflows_dir)
    registry.load()
    runtime.set_registry(registry)
    hooks.install()
    calendar.share_for(settings.calendar_share_seconds)
    actions.install()
    engine = make_engine(settings.database_url)
    with transaction(engine) as session:
        registry.sync(session)
    if once:
        report = run_sweep(engine, settings, registry)
        if report is not None:
            out.print(f"{report.queued} queued, {report.digests} digests, {report.sent} sent, "
                      f"{report.retried} to retry, {report.failed} failed, {report.obsolete} no "
                      "longer true")
        return
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)
        out.print(f"Metrics on http://{metrics_host}:{metrics_port}/metrics")
    where = settings.smtp_host or "the built-in mailbox"
    out.print(f"Sweeping every {settings.scheduler_interval_seconds} s, mail to {where}. "
              "Ctrl-C stops.")
    job = blocking_scheduler(engine, settings, registry)
    try:
        job.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        engine.dispose()
        out.print("Scheduler stopped.")


class DatabaseUnreachable(Exception):
    """HR's calendar corrections cannot be read."""


def _calendar(settings: Settings) -> tuple[WorkingCalendar, str]:
    """HR's corrections from the database, and a note when there is no database to ask (a
    database that does not answer is an error: a simulation without HR's corrections would
    silently disagree with the scheduler)."""
    from sqlalchemy.engine import make_url
    from sqlmodel import Session

    from app.db import make_engine, normalise_url

    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        # no database yet: do not create one just to look
        return WorkingCalendar(), "No database yet: HR's calendar corrections are not included."
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return calendar.load(session), ""
    except SQLAlchemyError as exc:
        raise DatabaseUnreachable(str(exc).splitlines()[0]) from exc
    finally:
        engine.dispose()


@dataclass(frozen=True)
class SimulatedMail:
    """One mail the scheduler would send if nobody acted."""

    day: date
    kind: str
    level: int
    says: str  # where the deadline stands that day, as the mail puts it
    to: list[str]  # actor expressions


def simulated_mails(spec: WorkflowSpec, cal: WorkingCalendar, start: date, until: date,
                    state: str | None, locale: str, due: date | None = None
                    ) -> tuple[date | None, list[SimulatedMail]]:
    """The due day of a case entering a state on `start`, and every mail it would get until
    `until` if nobody acted (one reminder and one escalation a day at most, as the sweep)."""
    gettext = gettext_for(locale)
    name = state or spec.initial
    policy = spec.states[name].deadline
    if policy is None:
        return None, []
    if policy.due_in_working_days is not None:
        due_day = cal.add_working_days(start, policy.due_in_working_days)
    elif due is not None:
        due_day = due
    else:
        raise typer.BadParameter(f"state '{name}' is due on the case's field "
                                 f"'{policy.due_on_field}': give that date with --due")
    waiting = sorted({expr for t in spec.transitions_from(name) if not t.optional
                      for expr in ([s.signer for s in t.sign_offs] or t.actors)})
    out = []
    for planned in mails(cal, policy, due_day, start, until):
        phase, days = phase_on(cal, due_day, planned.day)
        if planned.kind == TimerKind.escalation:
            phase = Phase.overdue
        says = gettext(SAYS[phase]).format(date=due_day.isoformat(), days=days)
        to = waiting
        if planned.kind == TimerKind.escalation:  # never to those it waits on alone
            rung = policy.escalate[planned.level].to
            to = [rung] if any(expr != rung for expr in waiting) else []
        if not to:
            continue
        out.append(SimulatedMail(planned.day, planned.kind, planned.level, says, to))
    return due_day, out


def simulation_rows(spec: WorkflowSpec, cal: WorkingCalendar, start: date, until: date,
                    state: str | None, locale: str, vocabulary: Vocabulary | None = None,
                    due: date | None = None) -> list[tuple[str, str, str, str, str]]:
    """(date, weekday, which mail, what it says, to whom) for every mail if nobody acts."""
    gettext = gettext_for(locale)
    vocabulary = vocabulary or Vocabulary({}, {})
    _, found = simulated_mails(spec, cal, start, until, state, locale, due)
    rows = []
    for mail in found:
        what = gettext(KIND_LABELS[mail.kind])
        if mail.kind == TimerKind.overdue:
            what += f" #{mail.level}"
        whom = ", ".join(actor_label(expr, vocabulary, locale) for expr in mail.to)
        rows.append((mail.day.isoformat(), mail.day.strftime("%a"), what, mail.says, whom))
    return rows


def _until(cal: WorkingCalendar, start: date, days: int | None, working_days: int | None
           ) -> date:
    if working_days is not None:
        return cal.add_working_days(start, working_days)
    return start + timedelta(days=days if days is not None else 60)


def simulate(
    workflow: Annotated[str, typer.Argument(help="Workflow name, e.g. improvement_plan.")],
    start: Annotated[str, typer.Option("--start", help="The day the case starts (YYYY-MM-DD).")],
    state: Annotated[str | None, typer.Option(help="Simulate this state instead of the first.")]
    = None,
    days: Annotated[int | None, typer.Option(help="How many calendar days to show (default 60).",
                                             min=1)] = None,
    working_days: Annotated[int | None, typer.Option(
        "--working-days", help="How many working days to show (instead of --days).", min=1)]
    = None,
    due: Annotated[str | None, typer.Option(
        help="The due date of a state that is due on a date of the case (YYYY-MM-DD).")] = None,
    without_corrections: Annotated[bool, typer.Option(
        "--without-corrections",
        help="Use the official calendar alone, without HR's corrections from the database.")]
    = False,
) -> None:
    """Print, on the working-day calendar, every mail (reminder, escalation) a case entering a
    state would get if nobody acted: the same mails, on the same days, as the scheduler sends."""
    settings = load_settings()
    start_day = _parse_day(start, "--start")
    due_day = _parse_day(due, "--due") if due else None
    if days is not None and working_days is not None:
        raise typer.BadParameter("give --days or --working-days, not both")
    registry = Registry(settings.workflows_dir)
    registry.load()
    loaded = registry.files.get(workflow)
    if loaded is None:
        raise typer.BadParameter(f"no workflow '{workflow}' (known: {', '.join(registry.files)})")
    spec = loaded.spec
    if state is not None and state not in spec.states:
        raise typer.BadParameter(f"no state '{state}' in {workflow}", param_hint="--state")
    note = "Without HR's calendar corrections (--without-corrections)."
    cal = WorkingCalendar()
    if not without_corrections:
        try:
            cal, note = _calendar(settings)
        except DatabaseUnreachable as exc:
            out.print(f"[red]Cannot read HR's calendar corrections from the database: {exc}[/]\n"
                      "Start the database, or pass --without-corrections to simulate on the "
                      "official calendar alone.")
            raise typer.Exit(1) from exc
    locale = settings.default_locale
    until = _until(cal, start_day, days, working_days)
    rows = simulation_rows(spec, cal, start_day, until, state, locale, registry.vocabulary,
                           due_day)
    name = state or spec.initial
    title = (f"{pick_label(spec.label, locale)} · {pick_label(spec.states[name].label, locale)}"
             f" · {start_day.isoformat()} – {until.isoformat()}")
    policy = spec.states[name].deadline
    if policy is not None:
        due_on, _ = simulated_mails(spec, cal, start_day, start_day, state, locale, due_day)
        if due_on is not None:
            title += f" · due {due_on.isoformat()} ({due_on.strftime('%a')})"
    table = Table(title=title)
    gettext = gettext_for(locale)
    for column in (N_("Date"), N_("Day"), N_("Mail"), N_("Says"), N_("To")):
        table.add_column(gettext(column))
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if policy is None:
        out.print(f"State '{name}' has no deadline: nothing would be sent.")
    if note:
        out.print(f"Note: {note}")
    for year in range(start_day.year, until.year + 1):
        if cal.source(date(year, 6, 1)) == calendar.Source.weekend_fallback and not any(
                day.year == year for day in cal.corrections):
            out.print(f"Note: {year} has no official holiday notice loaded; weekends only.")


def _parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint=option) from exc


app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command()(scheduler)
app.command()(simulate)
