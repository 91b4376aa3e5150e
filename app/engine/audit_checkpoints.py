"""Signed checkpoints of every audit chain head, written outside the database.

Every so often (the scheduler, or `stepwise audit checkpoint`) the heads that moved since the
previous checkpoint are written to a new file in a directory the operator copies to write-once
storage. Each file is signed with an Ed25519 key kept on the application server (not in the
database) and names the digest of the one before it, so the files form one chain: a file
replaced, edited, removed or put out of order is found. `stepwise audit verify --checkpoints
DIR` replays the files and checks that the database still holds every recorded head: a
case deleted with its whole history, events cut off the end, and history rewritten with every
hash and seal recomputed (by someone who has the audit key too) are all found.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func
from sqlmodel import Session, select

from app.config import Settings
from app.engine.audit import CheckpointedHead, Expectations, canonical_json, heads_changed_since
from app.engine.models import WorkflowInstance
from app.errors import DomainError

FORMAT = "stepwise-audit-checkpoint/1"
PATTERN = "checkpoint-*.json"
# How long an action's transaction may stay open between reading the clock and committing: a
# checkpoint takes again every head that moved this long before the previous one, and
# verification expects only events older than this before the newest checkpoint to be in one.
GRACE = timedelta(minutes=15)


class CheckpointProblem(DomainError):
    """A checkpoint file or key cannot be used (missing, unreadable, not signed by the key)."""

    code = "checkpoint_invalid"


@dataclass(frozen=True)
class Checkpoint:
    """One verified checkpoint file."""

    path: Path
    body: dict[str, Any]
    digest: str

    @property
    def sequence(self) -> int:
        """Its place in the chain of checkpoints (1 for the first)."""
        return int(self.body["sequence"])

    @property
    def as_of(self) -> datetime:
        """The moment its heads were read."""
        return datetime.fromisoformat(self.body["as_of"])


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key (the first 16 hex digits of its SHA-256)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_path(private_path: Path) -> Path:
    """Where the public half of a signing key is written beside it."""
    return private_path.with_name(private_path.stem + ".pub.pem")


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key from its file, made on first use (readable by us only)."""
    path = settings.audit_signing_key_file
    assert path is not None  # filled in by Settings
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        public_key_path(path).write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointProblem("{path} is not an Ed25519 private key.", path=str(path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CheckpointProblem("Cannot read the public key {path}: {problem}",
                                path=str(path), problem=str(exc)) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointProblem("{path} is not an Ed25519 public key.", path=str(path))
    return key


def read_checkpoint(path: Path, public_key: Ed25519PublicKey) -> Checkpoint:
    """A checkpoint file whose signature the key confirms, or CheckpointProblem."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        body, signature = document["body"], base64.b64decode(document["signature"])
        public_key.verify(signature, canonical_json(body).encode("utf-8"))
        if body.get("format") != FORMAT:
            raise ValueError(f"unknown format {body.get('format')!r}")
        checkpoint = Checkpoint(path, body, _digest(body))
        checkpoint.as_of  # noqa: B018 - a malformed time is a malformed file
        checkpoint.sequence  # noqa: B018
    except InvalidSignature as exc:
        raise CheckpointProblem("The checkpoint {name} is not signed by the checkpoint key: "
                                "it was replaced or edited.", name=path.name) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointProblem("The checkpoint {name} cannot be read: {problem}",
                                name=path.name, problem=str(exc)) from exc
    return checkpoint


def checkpoint_files(directory: Path) -> list[Path]:
    """The checkpoint files of a directory, oldest first (their names sort in order)."""
    return sorted(directory.glob(PATTERN)) if directory.is_dir() else []


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time per directory (several schedulers may share it)."""
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_checkpoint(session: Session, settings: Settings, now: datetime, *,
                     min_interval: timedelta | None = None) -> Path | None:
    """Write the next checkpoint: the heads that moved since the previous one (all of them
    the first time), signed and chained to it. None when the previous one is younger than
    `min_interval` (another scheduler just wrote it)."""
    directory = settings.audit_checkpoint_dir
    assert directory is not None  # filled in by Settings
    directory.mkdir(parents=True, exist_ok=True)
    key = signing_key(settings)
    with _locked(directory):
        files = checkpoint_files(directory)
        previous = read_checkpoint(files[-1], key.public_key()) if files else None
        if previous and min_interval and now - previous.as_of < min_interval:
            return None
        since = previous.as_of - GRACE if previous else None
        body = {
            "format": FORMAT,
            "sequence": previous.sequence + 1 if previous else 1,
            "as_of": now.isoformat(timespec="microseconds"),
            "previous": previous.digest if previous else "",
            "full": previous is None,
            "cases": session.exec(select(func.count()).select_from(WorkflowInstance)).one(),
            "heads": [list(head) for head in heads_changed_since(session, since)],
            "key": fingerprint(key.public_key()),
        }
        signature = base64.b64encode(key.sign(canonical_json(body).encode("utf-8")))
        path = directory / f"checkpoint-{body['sequence']:09d}-{now:%Y%m%dT%H%M%S}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"body": body, "signature": signature.decode("ascii")},
                                        ensure_ascii=False), encoding="utf-8")
        temporary.chmod(0o444)
        temporary.replace(path)
    return path


@dataclass
class CheckpointReport:
    """What the checkpoint files say, and what is wrong with the files themselves."""

    expected: Expectations
    files: int
    problems: list[str]
    newest: Checkpoint | None = None


def load_expectations(directory: Path, public_key: Ed25519PublicKey) -> CheckpointReport:
    """Replay a directory's checkpoints: every file signed by the key, each naming the one
    before it, numbered without a gap, the first one complete. Heads come from the files up
    to the first bad one; the problems name the files."""
    expected, problems = Expectations(), []
    files = checkpoint_files(directory)
    if not files:
        problems.append(f"no checkpoint files in {directory}")
    previous: Checkpoint | None = None
    for path in files:
        try:
            checkpoint = read_checkpoint(path, public_key)
        except CheckpointProblem as exc:
            problems.append(exc.text())
            break
        if previous is None and (checkpoint.body["previous"] or not checkpoint.body["full"]
                                 or checkpoint.sequence != 1):
            problems.append(f"the checkpoint {path.name} is not the first of its chain: "
                            "earlier checkpoint files are missing")
            break
        if previous is not None and (checkpoint.body["previous"] != previous.digest
                                     or checkpoint.sequence != previous.sequence + 1):
            problems.append(f"the checkpoint {path.name} does not follow {previous.path.name}: "
                            "a checkpoint file between them was removed or replaced")
            break
        for instance_id, seq, hash_ in checkpoint.body["heads"]:
            before = expected.heads.get(instance_id)
            if before is not None and seq < before.seq:
                problems.append(f"the checkpoint {path.name} records case {instance_id} at an "
                                f"earlier event ({seq}) than a checkpoint before it ({before.seq})")
            expected.heads[instance_id] = CheckpointedHead(seq, hash_)
        previous = checkpoint
    if previous is not None:
        expected.covered_before = previous.as_of - GRACE
    return CheckpointReport(expected, len(files), problems, previous)
