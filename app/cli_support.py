"""What every `stepwise` command shares: the consoles, one-line failures, settings, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.config import Settings, get_settings
from app.errors import DefinitionError, DomainError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print one clear line on stderr and stop with exit code 1."""
    err.print(f"Error: {message}", markup=False)
    raise typer.Exit(1)


def _database_problem(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return f"the database has no tables yet ({text}); run `stepwise migrate` first"
    return f"database error: {text}"


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn expected failures (bad input, unreachable database, missing file) into one line."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except DefinitionError as exc:
        fail("\n".join(exc.problems))
    except DomainError as exc:
        fail(exc.text())
    except SQLAlchemyError as exc:
        fail(_database_problem(exc))
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


def load_settings() -> Settings:
    """The process settings, with the clock set to the organisation's timezone; settings
    that cannot work (a production without mail server or audit key…) stop with a clear
    line."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        fail("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    clock.set_timezone(settings.timezone)
    return settings


def safe_url(url: str) -> str:
    """A database URL fit to print (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar, handed out as the (done, total) callback importers call."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance
