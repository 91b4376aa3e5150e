"""A plan's content as one frozen document: snapshot, content hash, versions and their diff."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
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


def snapshot(db_session: Session, plan: ImprovementPlan) -> dict[str, Any]:
    """Everything both sides sign, as plain data in a stable order."""
    gaps, causes = gaps_with_causes(db_session, plan.id)
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
        "gaps": [
            {
                "requirement": g.requirement, "actual": g.actual, "metric": g.metric,
                "unit": g.unit, "baseline": g.baseline, "target": g.target, "source": g.source,
                "included": g.included, "exclusion_reason": g.exclusion_reason,
                "causes": [{"side": c.side, "nature": c.nature, "catalogue_key": c.catalogue_key,
                            "text": c.text} for c in causes[g.id]],
            }
            for g in gaps
        ],
        "methods": [m.description for m in methods_of(db_session, plan.id) if m.chosen],
        "steps": [
            {"description": s.description, "due_on": s.due_on.isoformat() if s.due_on else None,
             "expected_result": s.expected_result, "owner_id": s.owner_id}
            for s in steps_of(db_session, plan.id)
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


def ensure_version(db_session: Session, *, plan: ImprovementPlan, actor: Person | None,
                   reason: str) -> PlanVersion:
    """The version matching the live content, frozen now if the content changed."""
    document = snapshot(db_session, plan)
    digest = content_hash(document)
    latest = latest_version(db_session, plan.id)
    if latest is not None and latest.content_hash == digest:
        return latest
    number = latest.number + 1 if latest else 1
    version = PlanVersion(plan_id=plan.id, number=number, content=document, content_hash=digest,
                          reason=reason, created_by_id=actor.id if actor else None,
                          created_at=clock.now())
    plan.content_version = number
    db_session.add(version)
    db_session.flush()
    return version
