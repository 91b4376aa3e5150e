"""A plan's content as one frozen document: snapshot, content hash, versions and their diff."""

from __future__ import annotations

import hashlib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Integer, bindparam
from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.engine.audit import canonical_json, sha256_hex
from app.org.models import Person
from app.plans.models import Cause, Gap, ImprovementPlan, Method, PlanVersion, Step


def cause_catalogue() -> dict[str, dict[str, dict[str, str]]]:
    """The cause catalogue per side (cause_catalogue.yaml beside the workflow files)."""
    return _load_catalogue(runtime.get_registry().directory / "cause_catalogue.yaml")


@lru_cache
def _load_catalogue(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def catalogue_has(side: str, key: str) -> bool:
    """Whether a catalogue entry exists for a side."""
    return key in cause_catalogue().get(side, {})


def gaps_of(db_session: Session, plan_id: int) -> list[Gap]:
    """A plan's gaps in order."""
    return list(db_session.exec(
        select(Gap).where(Gap.plan_id == plan_id).order_by(Gap.position, Gap.id)))


def steps_of(db_session: Session, plan_id: int) -> list[Step]:
    """A plan's steps in date order."""
    return list(db_session.exec(
        select(Step).where(Step.plan_id == plan_id).order_by(Step.due_on, Step.position, Step.id)))


def methods_of(db_session: Session, plan_id: int) -> list[Method]:
    """A plan's candidate methods."""
    return list(db_session.exec(select(Method).where(Method.plan_id == plan_id)
                                .order_by(Method.id)))


def causes_of(db_session: Session, gap_ids: list[int]) -> dict[int, list[Cause]]:
    """Causes per gap, for several gaps in one query."""
    out: dict[int, list[Cause]] = {gap_id: [] for gap_id in gap_ids}
    if gap_ids:
        for cause in db_session.exec(select(Cause).where(Cause.gap_id.in_(gap_ids))
                                     .order_by(Cause.id)):
            out[cause.gap_id].append(cause)
    return out


def gaps_with_causes(db_session: Session,
                     plan_id: int) -> tuple[list[Gap], dict[int, list[Cause]]]:
    """A plan's gaps in order and their causes (as `gaps_of` and `causes_of`), one statement."""
    gaps: list[Gap] = []
    causes: dict[int, list[Cause]] = {}
    for gap, cause in db_session.exec(
        select(Gap, Cause).outerjoin(Cause, Cause.gap_id == Gap.id)
        .where(Gap.plan_id == plan_id).order_by(Gap.position, Gap.id, Cause.id)
    ):
        if gap.id not in causes:
            gaps.append(gap)
            causes[gap.id] = []
        if cause is not None:
            causes[gap.id].append(cause)
    return gaps, causes


@cache
def _snapshot_statements() -> tuple[Any, Any, Any]:
    """The three reads of a snapshot, built once with the plan as a parameter (building and
    keying a statement costs about as much CPU as running it: issue 21 item 3)."""
    plan_id = bindparam("plan_id", type_=Integer)
    gaps = (select(Gap.id, Gap.requirement, Gap.actual, Gap.metric, Gap.unit, Gap.baseline,
                   Gap.target, Gap.source, Gap.included, Gap.exclusion_reason, Cause.id,
                   Cause.side, Cause.nature, Cause.catalogue_key, Cause.text)
            .outerjoin(Cause, Cause.gap_id == Gap.id)
            .where(Gap.plan_id == plan_id).order_by(Gap.position, Gap.id, Cause.id))
    methods = (select(Method.description, Method.chosen).where(Method.plan_id == plan_id)
               .order_by(Method.id))
    steps = (select(Step.description, Step.due_on, Step.expected_result, Step.owner_id)
             .where(Step.plan_id == plan_id).order_by(Step.due_on, Step.position, Step.id))
    return gaps, methods, steps


def snapshot(db_session: Session, plan: ImprovementPlan) -> dict[str, Any]:
    """Everything both sides sign, as plain data in a stable order.

    Read as plain column rows (no ORM objects): every sign-off freezes the content, and
    building gap, cause, method and step objects only to copy their fields cost more than
    the rest of the freeze (issue 21 item 3). The document is the same field for field.
    """
    gap_read, method_read, step_read = _snapshot_statements()
    params = {"plan_id": plan.id}
    gaps: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    for row in db_session.exec(gap_read, params=params):
        gap = by_id.get(row[0])
        if gap is None:
            gap = by_id[row[0]] = {
                "requirement": row[1], "actual": row[2], "metric": row[3], "unit": row[4],
                "baseline": row[5], "target": row[6], "source": row[7], "included": row[8],
                "exclusion_reason": row[9], "causes": [],
            }
            gaps.append(gap)
        if row[10] is not None:
            gap["causes"].append({"side": row[11], "nature": row[12],
                                  "catalogue_key": row[13], "text": row[14]})
    methods = db_session.exec(method_read, params=params).all()
    steps = db_session.exec(step_read, params=params).all()
    return {
        "title": plan.title,
        "cycle": plan.cycle,
        "goal": plan.goal,
        "goal_metric": plan.goal_metric,
        "goal_unit": plan.goal_unit,
        "goal_target": plan.goal_target,
        "goal_unquantified_reason": plan.goal_unquantified_reason,
        "resources": plan.resources,
        "period_start": plan.period_start.isoformat() if plan.period_start else None,
        "period_end": plan.period_end.isoformat() if plan.period_end else None,
        "cadence": plan.cadence,
        "gaps": gaps,
        "methods": [description for description, chosen in methods if chosen],
        "steps": [
            {"description": description, "due_on": due_on.isoformat() if due_on else None,
             "expected_result": expected_result, "owner_id": owner_id}
            for description, due_on, expected_result, owner_id in steps
        ],
    }


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def content_hash(document: dict[str, Any]) -> str:
    """The hash a signature binds to."""
    return sha256_hex(canonical_json(document))


def latest_version(db_session: Session, plan_id: int) -> PlanVersion | None:
    """The newest frozen version of a plan."""
    return db_session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                           .order_by(PlanVersion.number.desc()).limit(1)).first()


@cache
def _newest_version_statement() -> Any:
    """The newest version's id, number and hash (not its document), built once."""
    return (select(PlanVersion.id, PlanVersion.number, PlanVersion.content_hash)
            .where(PlanVersion.plan_id == bindparam("plan_id", type_=Integer))
            .order_by(PlanVersion.number.desc()).limit(1))


def freeze(db_session: Session, *, plan: ImprovementPlan, actor: Person | None,
           reason: str) -> tuple[int, str]:
    """(id, content hash) of the version matching the live content, frozen now if the content
    changed. The newest version is read without its document: only its hash is compared."""
    document = snapshot(db_session, plan)
    digest = content_hash(document)
    latest = db_session.exec(_newest_version_statement(), params={"plan_id": plan.id}).first()
    if latest is not None and latest.content_hash == digest:
        return latest.id, digest
    number = latest.number + 1 if latest else 1
    version = PlanVersion(plan_id=plan.id, number=number, content=document, content_hash=digest,
                          reason=reason, created_by_id=actor.id if actor else None,
                          created_at=clock.now())
    plan.content_version = number
    db_session.add(version)
    db_session.flush()
    return version.id, digest
