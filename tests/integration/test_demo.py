"""The demo bank: people in every role, plans in every state, dated in the past, seeded once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from app import clock
from app.assessments.models import AnnualAssessment, AssessmentPlanLink, QuarterlyAssessment
from app.auth.passwords import verify_password
from app.cli import app
from app.config import get_settings
from app.db import make_engine
from app.demo import DEMO_PASSWORD, HEAD_OFFICE_CODE, DemoReport, seed_demo
from app.demo_results import last_quarters
from app.engine import runtime
from app.engine.models import AuditEvent, SignOff, WorkflowInstance
from app.engine.registry import Registry
from app.org.models import OrgUnit, Person, RoleAssignment
from tests.conftest import _wipe

EVERY_STATE_SHOWN = {
    "draft", "gap_identified", "causes_analysed", "methods_chosen", "plan_drafted",
    "plan_proposed", "plan_agreed", "in_progress", "under_review", "closed", "next_cycle",
    "hr_decision", "closed_by_hr", "cancelled",
}


def _count(db: Session, model: type) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


@dataclass
class Seeded:
    """The demo bank seeded once per database backend, shared by this module's checks."""

    db: Session
    registry: Registry
    report: DemoReport
    before: datetime  # the clock just before seeding


@pytest.fixture(scope="module")
def seeded(engine: Engine, workflows_dir: Path) -> Iterator[Seeded]:
    """Seeding takes seconds: the checks below only read, so they share one seeded bank."""
    registry = Registry(workflows_dir)
    registry.load()
    runtime.set_registry(registry)
    clock.reset()
    before = clock.now()
    session = Session(engine, expire_on_commit=False)
    try:
        report = seed_demo(session, registry)
        session.commit()
        yield Seeded(session, registry, report, before)
    finally:
        session.close()
        _wipe(engine)


def test_demo_bank_has_people_in_every_role_and_plans_in_every_state(seeded: Seeded) -> None:
    db, registry = seeded.db, seeded.registry

    assert seeded.report.created
    assert 35 <= _count(db, Person) <= 50
    seats = set(db.exec(select(RoleAssignment.kind, RoleAssignment.name)))
    vocabulary = registry.vocabulary
    assert {("role", name) for name in vocabulary.roles} <= seats
    assert {("committee", name) for name in vocabulary.committees} <= seats
    assert [p.employee_no for p in db.exec(select(Person).where(Person.is_admin))] == ["admin"]
    states = set(db.exec(select(WorkflowInstance.state)))
    assert EVERY_STATE_SHOWN <= states


def test_every_demo_person_has_the_last_four_quarters_and_the_last_full_year_assessed(
    seeded: Seeded,
) -> None:
    db = seeded.db
    quarters = last_quarters(seeded.before.astimezone(clock.zone()).date())
    recorded = set(db.exec(select(QuarterlyAssessment.person_id, QuarterlyAssessment.year,
                                  QuarterlyAssessment.quarter)))
    people = list(db.exec(select(Person.id)))
    assert {(p, y, q) for p in people for y, q in quarters} <= recorded
    assert _count(db, AnnualAssessment) == len(people)
    opened = db.exec(select(AssessmentPlanLink)).one()  # a quarter at level 5 opened a plan
    assert db.get(Person, opened.person_id).employee_no == "tel04"
    starred = {row.person_id for row in db.exec(select(AnnualAssessment)) if row.metrics}
    assert len(starred) >= 10  # the customer managers have star-rating figures


def test_demo_accounts_are_bilingual_and_sign_in_with_the_demo_password(seeded: Seeded) -> None:
    db = seeded.db
    people = list(db.exec(select(Person)))
    assert {"admin", "hr01", "cm01", "sup01", "tel01"} <= {p.employee_no for p in people}
    assert all(p.name_en and p.name != p.name_en for p in people)
    assert all(p.password_hash and p.password_hash != DEMO_PASSWORD for p in people)
    assert verify_password(people[0].password_hash, DEMO_PASSWORD)
    signers = {
        instance.subject_id: list(db.exec(select(SignOff.signer_id).where(
            SignOff.instance_id == instance.id, SignOff.voided_at.is_(None))))
        for instance in db.exec(select(WorkflowInstance).where(
            WorkflowInstance.state == "plan_proposed"))}
    assert sorted(map(len, signers.values())) == [0, 1]  # one awaits both, one the supervisor
    assert all(ids in ([], [subject]) for subject, ids in signers.items())


def test_demo_history_lies_in_the_past_in_order_and_the_clock_is_reset(seeded: Seeded) -> None:
    db, before = seeded.db, seeded.before

    assert clock.now() >= before  # back on the system clock
    for instance in db.exec(select(WorkflowInstance)):
        times = list(db.exec(select(AuditEvent.at).where(AuditEvent.instance_id == instance.id)
                             .order_by(AuditEvent.seq)))
        assert times == sorted(times), instance.title
        assert times[-1] < before, instance.title
    first = db.exec(select(func.min(AuditEvent.at))).one()
    assert (before - first).days >= 14


def test_seeding_twice_changes_nothing(seeded: Seeded) -> None:
    db = seeded.db
    counts = [_count(db, model) for model in (OrgUnit, Person, WorkflowInstance, AuditEvent)]

    again = seed_demo(db, seeded.registry)

    assert not again.created
    assert HEAD_OFFICE_CODE in again.head_office
    assert [_count(db, m) for m in (OrgUnit, Person, WorkflowInstance, AuditEvent)] == counts


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at an empty var/ directory with its own SQLite database."""
    var = tmp_path / "var"
    monkeypatch.setenv("STEPWISE_VAR_DIR", str(var))
    monkeypatch.setenv("STEPWISE_DATABASE_URL", f"sqlite:///{var / 'stepwise.db'}")
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


def test_migrate_and_demo_commands_twice_give_one_demo_bank(var_dir: Path) -> None:
    runner = CliRunner()

    migrated = runner.invoke(app, ["migrate"])
    first = runner.invoke(app, ["demo"])
    second = runner.invoke(app, ["demo"])

    assert migrated.exit_code == 0, migrated.output
    assert first.exit_code == 0, first.output + first.stderr
    assert "Demo bank created" in first.output
    assert second.exit_code == 0, second.output + second.stderr
    assert "already there: nothing changed" in second.output
    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            assert 35 <= _count(session, Person) <= 50
            assert _count(session, WorkflowInstance) >= len(EVERY_STATE_SHOWN)
    finally:
        engine.dispose()


def test_demo_command_refuses_a_production_database(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPWISE_ENVIRONMENT", "production")
    monkeypatch.setenv("STEPWISE_SECRET_KEY", "a-long-random-production-secret-for-the-test")
    monkeypatch.setenv("STEPWISE_SMTP_HOST", "mail.bank.example")
    monkeypatch.setenv("STEPWISE_AUDIT_KEYS", '{"2027a": "' + "k" * 40 + '"}')
    get_settings.cache_clear()

    result = CliRunner().invoke(app, ["demo"])

    assert result.exit_code == 1
    assert "refusing to add demo data to a production database" in result.stderr


def test_demo_promotions_wait_at_every_step_of_every_route_and_every_step_reaches_someone(
    seeded: Seeded,
) -> None:
    """Issue 15 item 9 and issue 18 item 6: a province level, a round open on the seeding day,
    cases at every step of every scheme's routes (and exits), nobody missing anywhere."""
    from app.promotions import reach
    from app.promotions.models import FilingNotice, PromotionRound
    from app.promotions.schemes import schemes_of

    db, registry, report = seeded.db, seeded.registry, seeded.report
    today = seeded.before.date()

    assert report.promotions >= 17
    waiting = {(i.workflow, i.state) for i in db.exec(select(WorkflowInstance))}
    workflows = {r.workflow for s in schemes_of(registry).values()
                 for r in [*s.routes.values(), *s.exits.values()]}
    for name in workflows:
        spec = registry.files[name].spec
        steps = {state for state, s in spec.states.items()
                 if not s.terminal and state not in (spec.initial, "returned")}
        assert steps <= {state for wf, state in waiting if wf == name}, name
    assert any(state == "returned" for _, state in waiting)
    assert db.exec(select(FilingNotice)).all()  # an appointed senior case filed to head office
    rounds = list(db.exec(select(PromotionRound)))
    assert any(r.opens_on <= today <= r.closes_on for r in rounds)
    assert reach.check(db, registry) == []


def test_demo_branches_have_staffing_figures_and_a_headcount(seeded: Seeded) -> None:
    from app.promotions.staffing_service import report

    db, registry = seeded.db, seeded.registry
    found = report(db, scheme="corporate_cm_2012", viewer=None, registry=registry)
    assert {b.branch.code: b.quota.headcount for b in found.branches} == {"HZ": 12, "JC": 19}
