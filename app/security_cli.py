"""`stepwise audit verify|checkpoint|seal` and `stepwise export plan`: integrity checks
and dossiers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlmodel import Session

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from app.config import Settings

audit_app = typer.Typer(help="Check, seal and checkpoint the tamper-evident audit trail.",
                        no_args_is_help=True)
export_app = typer.Typer(help="Export records for archives and auditors.", no_args_is_help=True)


def _engine():  # noqa: ANN202 - an SQLAlchemy engine
    from app.cli_support import load_settings
    from app.db import make_engine
    from app.models import load_all_models

    load_all_models()
    return make_engine(load_settings().database_url)


def _case_name(session: Session, instance_id: int) -> str:
    """'case 12 (improvement_plan, "Reports late")', or just the id when the case is gone."""
    from app.engine.models import WorkflowInstance

    instance = session.get(WorkflowInstance, instance_id)
    if instance is None:
        return f"case {instance_id}"
    title = f', "{instance.title}"' if instance.title else ""
    return f"case {instance_id} ({instance.workflow}{title})"


def _verify_key(settings: Settings, public_key: Path | None) -> Ed25519PublicKey:
    """The public key to trust: given, configured, or (with a warning) the server's own."""
    from app.cli_support import err
    from app.engine import audit_checkpoints as checkpoints

    path = public_key or settings.audit_verify_key_file
    if path is not None:
        return checkpoints.load_public_key(path)
    err.print("Note: checking the checkpoints with the public half of this server's own "
              "signing key; for an independent check pass --public-key with the copy you "
              "keep apart.", markup=False)
    return checkpoints.signing_key(settings).public_key()


@audit_app.command("verify")
def audit_verify(
    instance: Annotated[int | None, typer.Option(help="Check only this case.")] = None,
    checkpoints_dir: Annotated[Path | None, typer.Option(
        "--checkpoints", help="Also compare with the signed checkpoints in this directory "
        "(the copy kept on write-once storage).")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="The checkpoint key's public half (PEM) to trust; default "
        "STEPWISE_AUDIT_VERIFY_KEY_FILE.")] = None,
) -> None:
    """Check every case's audit chain: hashes, seals (with the audit keys of the settings),
    heads, a history for every case; with --checkpoints, what the signed checkpoints
    recorded. Names each broken case and its first bad event; exit 1 on any problem."""
    from app.cli_support import err, friendly_errors, load_settings, out, progress_bar
    from app.engine import audit
    from app.engine import audit_checkpoints as checkpoints

    file_problems: list[str] = []
    with friendly_errors():
        settings = load_settings()
        expected = None
        if checkpoints_dir is not None:
            report = checkpoints.load_expectations(checkpoints_dir,
                                                   _verify_key(settings, public_key))
            expected, file_problems = report.expected, report.problems
            out.print(f"{report.files} checkpoint files read from {checkpoints_dir}.",
                      markup=False)
        engine = _engine()
        try:
            with Session(engine) as session, progress_bar("Checking audit chains") as advance:
                breaks = audit.verify(session, instance, keyring=audit.keyring_from(settings),
                                      expected=expected, progress=advance)
                names = {b.instance_id: _case_name(session, b.instance_id) for b in breaks}
        finally:
            engine.dispose()
    for problem in file_problems:
        err.print(f"BROKEN checkpoints: {problem}", markup=False)
    for found in breaks:
        where = f" at event {found.seq}" if found.seq else ""
        err.print(f"BROKEN {names[found.instance_id]}{where}: {found.explanation}",
                  markup=False)
    if not settings.audit_keys:
        err.print("Note: no STEPWISE_AUDIT_KEYS: events are sealed with the development key, "
                  "which proves nothing.", markup=False)
    if breaks or file_problems:
        raise typer.Exit(1)
    out.print("✓ Every audit chain is intact" + (" and matches the signed checkpoints."
                                                 if checkpoints_dir else "."))


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Write a signed checkpoint of the chain heads now (the scheduler also writes one every
    STEPWISE_AUDIT_CHECKPOINT_MINUTES) into STEPWISE_AUDIT_CHECKPOINT_DIR."""
    from app import clock
    from app.cli_support import friendly_errors, load_settings, out
    from app.engine import audit_checkpoints as checkpoints

    with friendly_errors():
        settings = load_settings()
        engine = _engine()
        try:
            with Session(engine) as session:
                path = checkpoints.write_checkpoint(session, settings, clock.now())
        finally:
            engine.dispose()
        key = checkpoints.signing_key(settings).public_key()
    out.print(f"✓ Checkpoint written to {path} (key {checkpoints.fingerprint(key)}). "
              "Copy it to write-once storage.", markup=False)


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal, with the current audit key, the events written before sealing existed (run once
    after upgrading); chains that are already broken are named and left as they are."""
    from app.cli_support import err, friendly_errors, load_settings, out
    from app.db import transaction
    from app.engine import audit

    with friendly_errors():
        settings = load_settings()
        engine = _engine()
        try:
            with transaction(engine) as session:
                sealed, broken = audit.seal_unsealed(session,
                                                     keyring=audit.keyring_from(settings))
        finally:
            engine.dispose()
    for found in broken:
        err.print(f"NOT SEALED case {found.instance_id}: its chain is already broken at event "
                  f"{found.seq}", markup=False)
    out.print(f"✓ {sealed} events sealed with key {audit.keyring_from(settings).current!r}.",
              markup=False)
    if broken:
        raise typer.Exit(1)


@export_app.command("plan")
def export_plan(
    plan_id: Annotated[int, typer.Argument(help="The improvement plan's id.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write the zip.")] = None,
) -> None:
    """Write one zip with the plan's versions, sign-offs, verified audit trail and messages."""
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
