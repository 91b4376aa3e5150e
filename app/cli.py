"""The `stepwise` command: serve, migrate, demo data, workflow checks and CSV imports."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli_support import (
    err,
    fail,
    friendly_errors,
    load_settings,
    out,
    progress_bar,
    safe_url,
)
from app.config import Settings
from app.errors import DefinitionError, ImportFailed

app = typer.Typer(
    name="stepwise",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
workflows_app = typer.Typer(
    help="Check workflow definition files and show what they define.", no_args_is_help=True
)
import_app = typer.Typer(
    help="Import the organisation tree and people from CSV files (UTF-8, Excel's BOM is fine).",
    no_args_is_help=True,
)
app.add_typer(workflows_app, name="workflows")
app.add_typer(import_app, name="import")

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"stepwise {version('stepwise')}")
        except PackageNotFoundError:
            out.print("stepwise (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Stepwise: workflow and approval engine for the performance-improvement cycle.

    Settings come from STEPWISE_* environment variables (or a .env file): STEPWISE_DATABASE_URL,
    STEPWISE_VAR_DIR, STEPWISE_WORKFLOWS_DIR, STEPWISE_ENVIRONMENT, STEPWISE_SECRET_KEY…
    """


# --- serve, migrate, demo --------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (PostgreSQL only for more than one).", min=1)
    ] = 1,
    timeout_keep_alive: Annotated[
        int | None,
        typer.Option(help="Seconds an idle keep-alive connection stays open (default: "
                          "STEPWISE_KEEP_ALIVE_SECONDS, 65, longer than the usual 60 s idle "
                          "timeout of a proxy in front).", min=1, show_default=False),
    ] = None,
) -> None:
    """Run the web application (uvicorn) on the configured database.

    The database must be migrated first (`stepwise migrate`).

    Several workers: STEPWISE_SCHEDULER_ENABLED=false, and `stepwise scheduler` on its own.
    """
    with friendly_errors():
        settings = load_settings()
        if importlib.util.find_spec("app.main") is None:
            fail("the web application (app/main.py) is not available in this installation")
        if workers > 1 and settings.is_sqlite:
            fail("more than one worker needs PostgreSQL; SQLite allows one writer process")
        from app.migrations.runner import current_revision, head_revision

        current, newest = current_revision(settings.database_url), head_revision()
        if current != newest:
            fail(
                f"the database at {safe_url(settings.database_url)} is at revision "
                f"{current or 'none'}, the newest is {newest}: run `stepwise migrate` first"
            )
    import uvicorn

    from app.observability.logs import configure_logging

    configure_logging(settings)
    metrics_dir = prepare_metrics_dir(settings, workers)
    out.print(f"Stepwise on http://{host}:{port} ({safe_url(settings.database_url)})")
    if metrics_dir:
        out.print(f"Metrics of the {workers} workers are kept in {metrics_dir}")
    # Our request log line (JSON in production) replaces uvicorn's access log; its own lines
    # go through the same handler (log_config=None leaves logging as configured here).
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None,
                timeout_keep_alive=timeout_keep_alive or settings.keep_alive_seconds)


def prepare_metrics_dir(settings: Settings, workers: int) -> Path | None:
    """For several workers, the directory where prometheus-client keeps each worker's
    counters (PROMETHEUS_MULTIPROC_DIR, else var/metrics), emptied of a previous run's files
    and handed to the workers through the environment."""
    import os

    if workers == 1 and not settings.prometheus_multiproc_dir:
        return None
    path = Path(settings.prometheus_multiproc_dir or settings.var_dir / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the newest revision (safe to run again)."""
    with friendly_errors():
        settings = load_settings()
        if settings.is_sqlite:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
        from app.migrations.runner import current_revision, head_revision, upgrade

        url = settings.database_url
        before = current_revision(url)
        upgrade(url)
        newest = head_revision()
    where = safe_url(url)
    if before == newest:
        out.print(f"✓ {where} is already at the newest revision {newest}.")
    else:
        out.print(f"✓ {where} migrated from {before or 'empty'} to {newest}.")


@app.command()
def demo(
    size: Annotated[
        str | None,
        typer.Option(help="Generate a bank of this size instead: quick (2,000 people) or "
                          "national (100,000 people, 300,000 plans); needs an empty database."),
    ] = None,
) -> None:
    """Fill the database with a demo bank: ~45 people in every role, plans in every state, and
    promotion cases at every step (this year's private-finance round open today).

    Runs `migrate` first. Safe to run again: an existing demo bank is left as it is.
    Every demo account's password is "demo". Refused when STEPWISE_ENVIRONMENT=production.
    With --size, a generated bank for load tests (see `make load`) is built instead.
    """
    with friendly_errors():
        settings = load_settings()
        if settings.environment == "production":
            fail("refusing to add demo data to a production database")
        from app.db import make_engine, transaction
        from app.demo import seed_demo
        from app.engine import runtime
        from app.engine.registry import Registry
        from app.migrations.runner import upgrade
        from app.models import load_all_models

        if settings.is_sqlite:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.database_url)
        load_all_models()
        from app.reminders import hooks

        registry = Registry(settings.workflows_dir)
        registry.load()
        runtime.set_registry(registry)
        hooks.install()  # demo tasks get their due dates and reminder timers, as in the app
        engine = make_engine(settings.database_url)
        if size is not None:
            _demo_at_size(engine, registry, size)
            return
        try:
            with progress_bar("Building the demo bank") as advance:
                with transaction(engine) as session:
                    report = seed_demo(session, registry, progress=advance)
        finally:
            engine.dispose()
    if not report.created:
        out.print(f"✓ The demo bank ({report.head_office}) is already there: nothing changed.")
        return
    out.print(
        f"✓ Demo bank created: {report.units} units, {report.people} people, "
        f"{report.plans} improvement plans, {report.promotions} promotion cases."
    )
    out.print(
        "  Sign in as admin, hr01, sup01, cm01, tel01… with the password 'demo' "
        "(STEPWISE_DEMO_MODE=true lists the accounts on the sign-in page)."
    )


def _demo_at_size(engine: Any, registry: Any, size: str) -> None:
    """Generate a bank of a named size (app/demo_scale) and say what was written."""
    import time

    from app.demo_scale import seed_scaled
    from app.demo_scale.sizes import SIZES

    if size not in SIZES:
        fail(f"unknown size '{size}': choose one of {', '.join(SIZES)}")
    started = time.monotonic()
    try:
        with progress_bar(f"Generating the {size} bank") as advance:
            report = seed_scaled(engine, registry, size, progress=advance)
    finally:
        engine.dispose()
    if not report.created:
        out.print("✓ The database already has an organisation: nothing changed "
                  "(generate into an empty database).")
        return
    rows = ", ".join(f"{n:,} {table}" for table, n in report.rows.items() if n)
    out.print(f"✓ {size} bank generated in {time.monotonic() - started:.0f} s: "
              f"{report.people:,} people; copied in bulk: {rows}.")
    out.print("  Every account's password is 'demo' (admin, hr01, b01hr1, s01001, e0100101…).")


# --- workflows -------------------------------------------------------------------------------


def _vocabulary_for(path: Path, settings: Settings) -> Any:
    from app.engine.definitions import load_vocabulary

    beside = path.parent / "organisation.yaml"
    return load_vocabulary(beside if beside.exists() else settings.workflows_dir
                           / "organisation.yaml")


@workflows_app.command("check")
def workflows_check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Workflow files to check (default: every one in the workflows dir)."),
    ] = None,
    org: Annotated[
        bool,
        typer.Option("--org", help="Also check every step against the organisation in the "
                                   "database: report each actor who resolves to nobody."),
    ] = False,
) -> None:
    """Validate workflow files: shape, names, actors, reachability. Exit 1 on any problem.

    Each problem names the file and the place in it (e.g. transitions[3] (sign).actors[0]).
    Without FILES the promotion schemes and assessment rules are checked too. With --org,
    every actor expression is resolved for every person in the organisation: a step that
    would wait on nobody is reported with the unit where someone is missing.
    """
    from app.engine.definitions import load_file, workflow_files

    with friendly_errors():
        settings = load_settings()
        paths = list(files or workflow_files(settings.workflows_dir))
        if not paths:
            fail(f"no workflow files in {settings.workflows_dir}")
        problems: list[str] = []
        seen: dict[str, str] = {}
        for path in paths:
            if not path.is_file():
                problems.append(f"{path}: no such file")
                continue
            try:
                loaded = load_file(path, _vocabulary_for(path, settings))
            except DefinitionError as exc:
                problems += exc.problems
                continue
            name = loaded.spec.workflow
            if name in seen:
                problems.append(f"{path.name}: workflow '{name}' is already in {seen[name]}")
                continue
            seen[name] = path.name
            out.print(
                f"✓ {path.name}: {name} ({len(loaded.spec.states)} states, "
                f"{len(loaded.spec.transitions)} actions)",
                markup=False,
            )
        if not files:
            from app.promotions.schemes import check_directory

            problems += check_directory(settings.workflows_dir)
        if org and not problems:
            problems += _org_problems(settings)
    for problem in problems:
        out.print(f"✗ {problem}", markup=False)
    if problems:
        out.print(f"{len(problems)} problem(s) found.", markup=False)
        raise typer.Exit(1)


def _org_problems(settings: Settings) -> list[str]:
    """Every step that would wait on nobody in the organisation of the database."""
    from sqlmodel import Session

    from app.assessments.wording import localise
    from app.db import make_engine
    from app.engine.registry import Registry
    from app.models import load_all_models
    from app.promotions import reach

    load_all_models()
    registry = Registry(settings.workflows_dir)
    registry.load()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            gaps = reach.check(session, registry)
    finally:
        engine.dispose()
    if not gaps:
        out.print("✓ every step reaches someone for everyone in the organisation", markup=False)
    return [localise(reach.describe(g, registry.vocabulary, "en", with_expression=True), "en")
            for g in gaps]


def _labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return ""
    return " / ".join(v for v in (labels.get("en"), labels.get("zh")) if v)


def _condition(when: Any) -> str:
    if when is None:
        return "otherwise"
    if isinstance(when, str):
        return f"guard {when}"
    data = when.model_dump(exclude_none=True, by_alias=True)
    subject = f"field {data.pop('field')}" if "field" in data else f"context {data.pop('context')}"
    return subject + " " + " ".join(f"{op} {value}" for op, value in data.items())


def _deadline(policy: Any) -> str:
    if policy is None:
        return ""
    parts = [f"due in {policy.due_in_working_days} working days"
             if policy.due_on_field is None else f"due on field {policy.due_on_field}"]
    if policy.remind_before:
        days = ", ".join(str(d) for d in policy.remind_before)
        parts.append(f"remind {days} working day(s) before")
    if policy.remind_every_overdue:
        parts.append(f"then every {policy.remind_every_overdue} working day(s) overdue")
    for rung in policy.escalate:
        parts.append(f"escalate after {rung.after_working_days} working day(s) to {rung.to}")
    return "; ".join(parts)


@workflows_app.command("show")
def workflows_show(
    name: Annotated[str, typer.Argument(help="The workflow's name, e.g. improvement_plan.")],
) -> None:
    """Show a workflow's states, actions, actors, forms, sign-offs and deadlines as tables."""
    from app.engine.definitions import load_file, workflow_files

    with friendly_errors():
        settings = load_settings()
        found = None
        names = []
        for path in workflow_files(settings.workflows_dir):
            loaded = load_file(path, _vocabulary_for(path, settings))
            names.append(loaded.spec.workflow)
            if loaded.spec.workflow == name:
                found = loaded
        if found is None:
            fail(f"no workflow named '{name}' (known: {', '.join(sorted(names)) or 'none'})")
    spec = found.spec
    out.print(f"[bold]{spec.workflow}[/bold] — {_labels(spec.label)}  ({found.origin})")
    if spec.description:
        out.print(_labels(spec.description), markup=False)

    states = Table(title="States", show_lines=False)
    for column in ("state", "label", "end", "deadline"):
        states.add_column(column)
    for state_name, state in spec.states.items():
        marker = "initial" if state_name == spec.initial else ""
        states.add_row(state_name, _labels(state.label), "yes" if state.terminal else marker,
                       _deadline(state.deadline))
    out.print(states)

    actions = Table(title="Actions", show_lines=True)
    for column in ("action", "from", "to", "who may act", "form", "sign-offs / guards"):
        actions.add_column(column)
    for t in spec.transitions:
        destinations = t.dest or "\n".join(f"{r.dest} ({_condition(r.when)})" for r in t.routes)
        extras = [f"{s.signer}: {s.meaning}" for s in t.sign_offs]
        extras += [f"guard {g}" for g in t.guards]
        label = f"{t.trigger}\n{_labels(t.label)}" + ("\n(optional)" if t.optional else "")
        actions.add_row(label, ", ".join(t.sources), destinations, "\n".join(t.actors),
                        ", ".join(t.form), "\n".join(extras))
    out.print(actions)

    if spec.fields:
        fields = Table(title="Form fields")
        for column in ("field", "type", "required", "label", "choices"):
            fields.add_column(column)
        for field_name, field in spec.fields.items():
            fields.add_row(field_name, field.type, "yes" if field.required else "",
                           _labels(field.label), ", ".join(field.choices))
        out.print(fields)


# --- import ----------------------------------------------------------------------------------


def _run_import(kind: str, file: Path) -> None:
    from app.db import make_engine, transaction
    from app.models import load_all_models
    from app.org.importer import import_org, import_people

    importer = import_org if kind == "org" else import_people
    with friendly_errors():
        settings = load_settings()
        load_all_models()
        engine = make_engine(settings.database_url)
        try:
            with progress_bar(f"Importing {file.name}") as advance:
                with transaction(engine) as session:
                    report = importer(session, file, progress=advance)
        except ImportFailed as exc:
            _print_rejections(exc)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    out.print(
        f"✓ {file.name}: {report.total} {report.what}: {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged.",
        markup=False,
    )


def _print_rejections(exc: ImportFailed) -> None:
    if exc.rejected:
        table = Table(title="Rejected rows")
        table.add_column("line", justify="right")
        table.add_column("reason")
        for line, reason in exc.rejected:
            table.add_row(str(line), reason)
        out.print(table)
    err.print(f"Error: {exc.text()}", markup=False)


@import_app.command("org")
def import_org_command(
    file: Annotated[Path, typer.Argument(help="org.csv: code, name, name_en, kind, parent_code.")],
) -> None:
    """Create or update org units by code; rows may come in any order. All or nothing.

    kind is one of head_office, province, branch, sub_branch, outlet, department;
    parent_code is empty for the head office.
    """
    _run_import("org", file)


@import_app.command("people")
def import_people_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="people.csv: employee_no, name, name_en, email, locale, org_unit_code, post, "
            "grade, titles, supervisor_no, roles, password."
        ),
    ],
) -> None:
    """Create or update people by employee number, with supervisors and roles. All or nothing.

    roles lists the person's roles and committee seats, separated by ';', e.g.
    "role:hr@BR01;committee:leadership_group@BR01" (names from workflows/organisation.yaml);
    it replaces the roles the person held. grade names one title in the bank's words (e.g.
    "三级"), titles any number as scheme:name separated by ';' (e.g.
    "corporate_cm_2012:高级客户经理"); names map through each scheme's titles and aliases, and
    an unknown or ambiguous one rejects the row. password is optional and stored only as a
    hash. Import the org units first.
    """
    _run_import("people", file)


def _register_optional_commands() -> None:
    """Mount commands that live with their domain (the scheduler's) when that module exists."""
    try:
        from app import scheduler_cli
    except ModuleNotFoundError as exc:
        if exc.name != "app.scheduler_cli":
            raise
        return
    app.command()(scheduler_cli.scheduler)
    app.command()(scheduler_cli.simulate)


def _register_security_commands() -> None:
    """Mount `audit verify` and `export plan` (app/security_cli.py)."""
    from app.security_cli import audit_app, export_app

    app.add_typer(audit_app, name="audit")
    app.add_typer(export_app, name="export")


def _register_promotion_commands() -> None:
    """Mount `staffing` (app/promotions/staffing_cli.py)."""
    from app.promotions.staffing_cli import staffing

    app.command()(staffing)


_register_optional_commands()
_register_security_commands()
_register_promotion_commands()


if __name__ == "__main__":
    app()
