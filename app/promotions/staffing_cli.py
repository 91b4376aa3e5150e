"""`stepwise staffing`: a branch's customer-manager headcount (DOMAIN §6), explained line by
line, from the figures HR keeps (or figures given on the command line, to try a case)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _amounts(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in text.replace("，", ",").split(",") if part.strip()]
    except ValueError:
        err.print(f"Error: '{text}' is not a comma-separated list of amounts in CNY",
                  markup=False)
        raise typer.Exit(1) from None


def staffing(
    scheme: Annotated[str, typer.Option(help="The scheme, e.g. corporate_cm_2012.")],
    branch: Annotated[str | None, typer.Option(
        help="A branch's code; without it every branch and the roll-up.")] = None,
    year: Annotated[int | None, typer.Option(min=2000, max=2100,
                                             help="The year of the quota (default: this year).")
                    ] = None,
    units: Annotated[int | None, typer.Option(
        min=0, help="Second-level units (default: stored, else counted from the tree).")] = None,
    size: Annotated[float | None, typer.Option(
        min=0, help="Corporate assets and liabilities, CNY.")] = None,
    deposit_growth: Annotated[float | None, typer.Option(
        help="Growth of corporate deposits in the year, CNY.")] = None,
    risk_asset_growth: Annotated[float | None, typer.Option(
        help="Growth of corporate risk assets in the year, CNY.")] = None,
    sme_start: Annotated[str | None, typer.Option(
        help="Credit lines (CNY, comma-separated) of credit clients at the start of the year.")
                         ] = None,
    sme_end: Annotated[str | None, typer.Option(
        help="Credit lines (CNY, comma-separated) of credit clients at the end of the year.")
                       ] = None,
    first_year: Annotated[bool | None, typer.Option(
        "--first-year/--not-first-year", help="A new branch in its first year.")] = None,
    lang: Annotated[str, typer.Option(help="zh_CN or en.")] = "zh_CN",
) -> None:
    """The customer-manager headcount of each branch (or one), explained line by line.

    Figures given as options replace the stored ones for this run only (nothing is saved);
    HR keeps the figures on the staffing page or through PUT /api/promotions/staffing/{code}.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from app import clock
    from app.config import get_settings
    from app.db import make_engine
    from app.engine import runtime
    from app.engine.registry import Registry
    from app.errors import DomainError
    from app.models import load_all_models
    from app.promotions import staffing_service
    from app.promotions.staffing_presenters import report_view

    overrides = {"second_level_units": units, "asset_liability_size": size,
                 "corporate_deposit_growth": deposit_growth,
                 "corporate_risk_asset_growth": risk_asset_growth,
                 "sme_credit_lines_start": _amounts(sme_start),
                 "sme_credit_lines_end": _amounts(sme_end), "first_year": first_year}
    settings = get_settings()
    clock.set_timezone(settings.timezone)
    load_all_models()
    registry = Registry(settings.workflows_dir)
    try:
        registry.load()
        runtime.set_registry(registry)
        engine = make_engine(settings.database_url)
        try:
            with Session(engine) as session:
                found = staffing_service.report(session, scheme=scheme, viewer=None, year=year,
                                                branch_code=branch, registry=registry,
                                                overrides=overrides)
                view = report_view(session, found, lang)
        finally:
            engine.dispose()
    except DomainError as exc:
        err.print(f"Error: {exc.text()}", markup=False)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        err.print(f"Error: database error ({str(getattr(exc, 'orig', exc)).splitlines()[0]}); "
                  "run `stepwise migrate` first if the database is new", markup=False)
        raise typer.Exit(1) from None
    for item in view["branches"]:
        table = Table(title=f"{item['branch_name']} ({item['branch_code']}) {view['year']}: "
                            f"{item['headcount']}", show_lines=False)
        for column in ("item", "number", "how it is reached"):
            table.add_column(column)
        for line in item["lines"]:
            mark = {True: " ✓", False: " ✗"}.get(line["met"], "")
            table.add_row(line["label"], line["value"] + mark, line["explanation"])
        out.print(table)
    if not view["branches"]:
        out.print("No branch.", markup=False)
        return
    for group in view["rollup"]:
        out.print(f"{group['unit_name']}: {group['headcount']} ({group['branches']})",
                  markup=False)
    out.print(f"Total: {view['total']}", markup=False)
