"""`stepwise scheduler` (the sweep as its own process) and `stepwise simulate` (a dry run).

Register in app/cli.py with `app.command()(scheduler)` and `app.command()(simulate)`.
"""

from __future__ import annotations

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
from app.reminders.plan import timeline
from app.web.labels import actor_label

out = Console(highlight=False, soft_wrap=True)

KIND_LABELS = {
    TimerKind.before_due: N_("reminder before the due day"),
    TimerKind.on_due: N_("reminder on the due day"),
    TimerKind.overdue: N_("overdue reminder"),
    TimerKind.escalation: N_("escalation"),
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
    actions.install()
    engine = make_engine(settings.database_url)
    with transaction(engine) as session:
        registry.sync(session)
    if once:
        report = run_sweep(engine, settings, registry)
        if report is not None:
            out.print(f"{report.queued} queued, {report.digests} digests, {report.sent} sent, "
                      f"{report.retried} to retry, {report.failed} failed")
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


def _calendar(settings: Settings) -> WorkingCalendar:
    """HR's corrections from the database when it answers, else the official calendar."""
    from sqlalchemy.engine import make_url
    from sqlmodel import Session

    from app.db import make_engine, normalise_url

    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return WorkingCalendar()  # no database yet: do not create one just to look
    try:
        engine = make_engine(settings.database_url)
        with Session(engine) as session:
            return calendar.load(session)
    except SQLAlchemyError:
        return WorkingCalendar()


def simulation_rows(spec: WorkflowSpec, cal: WorkingCalendar, start: date, days: int,
                    state: str | None, locale: str, vocabulary: Vocabulary | None = None
                    ) -> list[tuple[str, str, str, str]]:
    """(date, weekday, what, to whom) for every reminder and escalation if nobody acts."""
    gettext = gettext_for(locale)
    vocabulary = vocabulary or Vocabulary({}, {})

    def names(exprs: list[str]) -> str:
        return ", ".join(actor_label(expr, vocabulary, locale) for expr in exprs)

    name = state or spec.initial
    policy = spec.states[name].deadline
    if policy is None:
        return []
    if policy.due_in_working_days is None:
        raise typer.BadParameter(f"state '{name}' is due on a field of the case; simulate "
                                 "a state with due_in_working_days")
    due_day = cal.add_working_days(start, policy.due_in_working_days)
    waiting = sorted({expr for t in spec.transitions_from(name) if not t.optional
                      for expr in ([s.signer for s in t.sign_offs] or t.actors)})
    rows = [(due_day.isoformat(), due_day.strftime("%a"), gettext("due"), names(waiting))]
    for planned in timeline(cal, policy, due_day, start + timedelta(days=days)):
        what = gettext(KIND_LABELS[planned.kind])
        if planned.kind == TimerKind.overdue:
            what += f" #{planned.level}"
        whom = (names([policy.escalate[planned.level].to])
                if planned.kind == TimerKind.escalation else names(waiting))
        rows.append((planned.day.isoformat(), planned.day.strftime("%a"), what, whom))
    order = {row: i for i, row in enumerate(rows)}
    return sorted(rows, key=lambda row: (row[0], order[row]))


def simulate(
    workflow: Annotated[str, typer.Argument(help="Workflow name, e.g. improvement_plan.")],
    start: Annotated[str, typer.Option("--start", help="The day the case starts (YYYY-MM-DD).")],
    state: Annotated[str | None, typer.Option(help="Simulate this state instead of the first.")]
    = None,
    days: Annotated[int, typer.Option(help="How many calendar days to show.", min=1)] = 60,
) -> None:
    """Print, on the working-day calendar, the reminders and escalations a new case would get
    if nobody acted."""
    settings = load_settings()
    try:
        start_day = date.fromisoformat(start)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--start") from exc
    registry = Registry(settings.workflows_dir)
    registry.load()
    loaded = registry.files.get(workflow)
    if loaded is None:
        raise typer.BadParameter(f"no workflow '{workflow}' (known: {', '.join(registry.files)})")
    spec = loaded.spec
    if state is not None and state not in spec.states:
        raise typer.BadParameter(f"no state '{state}' in {workflow}", param_hint="--state")
    cal = _calendar(settings)
    locale = settings.default_locale
    rows = simulation_rows(spec, cal, start_day, days, state, locale, registry.vocabulary)
    name = state or spec.initial
    table = Table(title=f"{pick_label(spec.label, locale)} · "
                        f"{pick_label(spec.states[name].label, locale)} · {start_day.isoformat()}")
    gettext = gettext_for(locale)
    for column in (N_("Date"), N_("Day"), N_("What"), N_("To")):
        table.add_column(gettext(column))
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if not rows:
        out.print(f"State '{name}' has no deadline: nothing would be sent.")
    years = sorted({start_day.year, (start_day + timedelta(days=days)).year})
    for year in years:
        if cal.source(date(year, 6, 1)) == calendar.Source.weekend_fallback and not any(
                day.year == year for day in cal.corrections):
            out.print(f"Note: {year} has no official holiday notice loaded; weekends only.")


app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command()(scheduler)
app.command()(simulate)
