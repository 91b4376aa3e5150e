"""A generated bank at any size (`stepwise demo --size quick|national`): the tree and people
as bulk rows, template lives played through the real engine, then cloned for every employee
with COPY (PostgreSQL) or executemany (SQLite), and a year of assessment results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, select
from sqlmodel import Session, SQLModel

from app import clock
from app.auth.passwords import hash_password
from app.demo import DEMO_PASSWORD
from app.demo_results import DEFAULT_LEVELS, RECORDED_AFTER_DAYS, last_quarters
from app.demo_scale import bulk, clone, lives, org
from app.demo_scale.sizes import SIZES, Size
from app.engine.registry import Registry
from app.org.importer import default_vocabulary
from app.org.models import OrgUnit, Person

Progress = Callable[[int, int], None]
ORG_TABLES = ("org_unit", "person", "role_assignment")
SNAPSHOT_DAYS = 30  # the dashboard's overdue trend: the last weeks' daily snapshots


@dataclass
class ScaleReport:
    """What generating did, with the rows written per table."""

    created: bool
    size: str
    people: int = 0
    templates: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def seed_scaled(engine: Engine, registry: Registry, size: Size | str,
                progress: Progress | None = None) -> ScaleReport:
    """Generate the bank unless the database already has an organisation (then nothing)."""
    size = SIZES[size] if isinstance(size, str) else size
    metadata = dict(SQLModel.metadata.tables)
    today = clock.local_now().replace(second=0, microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        if session.scalar(select(func.count()).select_from(OrgUnit)):
            return ScaleReport(created=False, size=size.name)
    templates = lives.lives(shapes=1 if size.name == "tiny" else 2)
    report = ScaleReport(created=True, size=size.name, templates=len(templates))
    chunks = -(-size.people // size.chunk)
    total, done = 2 + len(templates) + chunks + 1, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    with Session(engine, expire_on_commit=False) as session:
        bank = _write_org(session, registry, metadata, size, report, today)
        step()
        registry.sync(session)
        session.commit()
        step()
        captured = _play_templates(session, registry, metadata, bank, templates, today, step)
        session.commit()
    others = bank.staff[len(templates):]
    choice = lives.assignment(templates, len(others))
    with Session(engine, expire_on_commit=False) as session:
        cloner = clone.Cloner(metadata, bulk.next_ids(session.connection(),
                                                      clone.tables(metadata)))
    assessment_ids = {"quarterly_assessment": 1, "annual_assessment": 1}
    for start in range(0, max(len(bank.staff), 1), size.chunk):
        with Session(engine, expire_on_commit=False) as session:
            out: dict[str, list[dict[str, Any]]] = {}
            for offset, staff in enumerate(others[start:start + size.chunk]):
                cloner.clone(captured[choice[start + offset]], staff, out)
            out.update(_assessments(metadata, bank.staff[start:start + size.chunk], today,
                                    assessment_ids))
            conn = session.connection()
            for name in [t.name for t in clone.tables(metadata)] + list(assessment_ids):
                bulk.write(conn, metadata[name], out.get(name, []))
                report.rows[name] = report.rows.get(name, 0) + len(out.get(name, []))
            session.commit()
        step()
    with Session(engine, expire_on_commit=False) as session:
        tables = clone.tables(metadata) + [metadata[n] for n in assessment_ids]
        bulk.fix_sequences(session.connection(), tables)
        _overdue_history(session, today)
        session.commit()
    step()
    return report


def _write_org(session: Session, registry: Registry, metadata: dict[str, Table], size: Size,
               report: ScaleReport, today: datetime) -> org.BankRows:
    """The tree, the people (one password hash for all: hashing 100,000 would take hours) and
    their roles, written in bulk."""
    conn = session.connection()
    tables = [metadata[name] for name in ORG_TABLES]
    vocabulary = registry.vocabulary if registry.files else default_vocabulary()
    bank = org.build(size, first_ids=bulk.next_ids(conn, tables), vocabulary=vocabulary,
                     password_hash=hash_password(DEMO_PASSWORD),
                     at=(today - timedelta(days=400)).astimezone(UTC))
    for table, rows in zip(tables, (bank.units, bank.people, bank.roles), strict=True):
        bulk.write(conn, table, rows)
        report.rows[table.name] = len(rows)
    bulk.fix_sequences(conn, tables)
    report.people = len(bank.people)
    return bank


def _play_templates(session: Session, registry: Registry, metadata: dict[str, Table],
                    bank: org.BankRows, templates: list[lives.Life], today: datetime,
                    step: Callable[[], None]) -> list[clone.Template]:
    """The first employees live the template lives through the engine; their rows captured."""
    captured = []
    try:
        for index, (life, staff) in enumerate(zip(templates, bank.staff, strict=False)):
            subject, hr = session.get(Person, staff.person_id), session.get(Person, staff.hr_id)
            assert subject is not None and hr is not None
            lives.play(session, registry, life, index, subject, hr, today)
            session.flush()
            template = clone.Template(staff.person_id, staff.supervisor_id, staff.hr_id,
                                      staff.unit_id, staff.branch_id)
            clone.capture(session.connection(), metadata, template)
            captured.append(template)
            step()
    finally:
        clock.reset()
    return captured


def _assessments(metadata: dict[str, Table], staff: list[org.Staff], today: datetime,
                 next_id: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """A year of results: the last four quarters' levels and the last full year's result,
    recorded by the branch HR about nine days after each period closed."""
    zone, quarters = clock.zone(), last_quarters(today.date())
    quarterly, annual = [], []
    year = quarters[-1][0] if quarters[-1][1] == 4 else quarters[-1][0] - 1
    annual_at = datetime.combine(date(year + 1, 1, 20), time(15, 0), tzinfo=zone)
    defaults = _defaults(metadata["annual_assessment"])
    for person in staff:
        levels = DEFAULT_LEVELS[person.person_id % len(DEFAULT_LEVELS)]
        for n, (y, q) in enumerate(quarters):
            closed = date(y + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
            at = min(datetime.combine(closed + timedelta(RECORDED_AFTER_DAYS), time(10, 30),
                                      tzinfo=zone), today - timedelta(hours=1))
            quarterly.append({"id": next_id["quarterly_assessment"] + len(quarterly),
                              "person_id": person.person_id, "year": y, "quarter": q,
                              "level": levels[n], "note": "", "recorded_by_id": person.hr_id,
                              "created_at": at, "updated_at": at})
        if annual_at < today:
            annual.append({**defaults, "id": next_id["annual_assessment"] + len(annual),
                           "person_id": person.person_id, "year": year,
                           "level": round(sum(levels) / len(levels)), "targets_met": True,
                           "effective_client_target_met": True, "metrics": {},
                           "recorded_by_id": person.hr_id, "created_at": annual_at,
                           "updated_at": annual_at})
    next_id["quarterly_assessment"] += len(quarterly)
    next_id["annual_assessment"] += len(annual)
    return {"quarterly_assessment": quarterly, "annual_assessment": annual}


def _defaults(table: Table) -> dict[str, Any]:
    """The model's defaults for every column of a table (the caller fills the rest)."""
    model = next(m.class_ for m in SQLModel._sa_registry.mappers
                 if getattr(m.class_, "__tablename__", None) == table.name)
    found: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in table.c and not info.is_required():
            found[name] = info.get_default(call_default_factory=True)
    return found


def _overdue_history(session: Session, today: datetime) -> None:
    """The daily overdue snapshots of the last weeks, as the demo bank has them."""
    from app.reports.snapshots import snapshot_overdue

    for back in range(SNAPSHOT_DAYS, 0, -1):
        day = (today - timedelta(days=back)).date()
        if day.weekday() < 5:
            snapshot_overdue(session, day, now=today)
