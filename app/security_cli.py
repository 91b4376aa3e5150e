"""`stepwise audit verify` and `stepwise export plan`: integrity checks and dossiers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

audit_app = typer.Typer(help="Check the tamper-evident audit trail.", no_args_is_help=True)
export_app = typer.Typer(help="Export records for archives and auditors.", no_args_is_help=True)


def _engine():  # noqa: ANN202 - an SQLAlchemy engine
    from app.cli_support import load_settings
    from app.db import make_engine
    from app.models import load_all_models

    load_all_models()
    return make_engine(load_settings().database_url)


@audit_app.command("verify")
def audit_verify(
    instance: Annotated[int | None, typer.Option(help="Check only this instance.")] = None,
) -> None:
    """Report the first broken link of every hash chain; exit 1 on any break."""
    from sqlmodel import Session

    from app.cli_support import err, friendly_errors, out
    from app.engine import audit

    with friendly_errors():
        engine = _engine()
        try:
            with Session(engine) as session:
                breaks = audit.verify(session, instance)
        finally:
            engine.dispose()
    for found in breaks:
        err.print(f"BROKEN instance {found.instance_id} at seq {found.seq}: {found.problem}",
                  markup=False)
    if breaks:
        raise typer.Exit(1)
    out.print("✓ Every audit chain is intact.")


@export_app.command("plan")
def export_plan(
    plan_id: Annotated[int, typer.Argument(help="The improvement plan's id.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write the zip.")] = None,
) -> None:
    """Write one zip with the plan's versions, sign-offs, verified audit trail and messages."""
    from sqlmodel import Session

    from app.cli_support import fail, friendly_errors, out
    from app.dossier.builder import build_dossier
    from app.plans.models import ImprovementPlan

    target = out_file or Path(f"plan-{plan_id}-dossier.zip")
    with friendly_errors():
        engine = _engine()
        try:
            with Session(engine) as session:
                plan = session.get(ImprovementPlan, plan_id)
                if plan is None:
                    fail(f"no improvement plan {plan_id}")
                data = build_dossier(session, plan)
        finally:
            engine.dispose()
        target.write_bytes(data)
    out.print(f"✓ Dossier of plan {plan_id} written to {target} ({len(data)} bytes).")
