"""The generated bank (`stepwise demo --size …`): consistent rows at a tiny size, served."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from app.demo_scale import clone, lives, seed_scaled
from app.demo_scale.sizes import SIZES
from app.engine import audit
from app.engine.models import AuditEvent, SignOff, Task, WorkflowInstance
from app.engine.registry import Registry
from app.org.models import OrgUnit, Person
from app.plans import content
from app.plans.models import ImprovementPlan
from app.reminders.models import ReminderTimer


def _count(db: Session, model: type, *where: object) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def _dangling_references(db: Session) -> list[str]:
    found = []
    for table in clone.tables(dict(SQLModel.metadata.tables)):
        for column in table.columns:
            for key in column.foreign_keys:
                target = key.column.table.alias().c[key.column.name]  # self-references too
                missing = db.exec(select(func.count()).select_from(table).where(
                    column.is_not(None),
                    ~select(target).where(target == column).exists())).one()
                if missing:
                    found.append(f"{table.name}.{column.name}: {missing}")
    return found


def test_generated_bank_is_consistent_and_my_work_serves_a_generated_employee(
        db: Session, engine: Engine, registry: Registry, client, login) -> None:  # noqa: ANN001
    report = seed_scaled(engine, registry, "tiny")

    size = SIZES["tiny"]
    assert report.created
    assert _count(db, Person) == size.people == report.people
    assert _count(db, OrgUnit, OrgUnit.kind == "sub_branch") == size.sub_branches
    assert _count(db, OrgUnit, OrgUnit.kind == "branch") == size.branches
    plans = _count(db, WorkflowInstance)
    assert plans == _count(db, ImprovementPlan) >= 2 * (size.people - 30)
    assert _count(db, AuditEvent) > 5 * plans
    assert _count(db, ReminderTimer, ReminderTimer.status == "pending") > 0
    # every plan is in a real state of its workflow, and every state a plan can rest in is there
    states = set(db.exec(select(WorkflowInstance.state).distinct()))
    assert states <= set(registry.files["improvement_plan"].spec.states)
    assert {r for r in lives.CURRENT if r != "plan_proposed_signed_once"} <= states
    # every open plan waits on somebody: it has an open task
    open_without_task = db.exec(select(func.count()).select_from(WorkflowInstance).where(
        WorkflowInstance.closed_at.is_(None),
        ~select(Task.id).where(Task.instance_id == WorkflowInstance.id,
                               Task.status == "open").exists())).one()
    assert open_without_task == 0
    # every reference of every copied row points at a row
    assert _dangling_references(db) == []
    # the cloned audit chains are whole and sealed
    assert audit.verify(db) == []
    # what was signed is what the plan says now (a signature binds to the content's hash)
    proposed = list(db.exec(select(ImprovementPlan).join(
        WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
        .where(WorkflowInstance.state == "plan_proposed")))
    assert proposed
    for plan in proposed:
        version = content.latest_version(db, plan.id)
        assert version is not None
        assert version.content_hash == content.content_hash(content.snapshot(db, plan))
        signed = db.exec(select(SignOff.content_hash).where(
            SignOff.instance_id == plan.instance_id, SignOff.voided_at.is_(None))).all()
        assert set(signed) <= {version.content_hash}

    # a generated (cloned, not played) employee signs in and sees their work and their plan
    employee, plan_id = db.exec(
        select(Person, ImprovementPlan.id)
        .join(ImprovementPlan, ImprovementPlan.employee_id == Person.id)
        .join(WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
        .join(Task, Task.instance_id == WorkflowInstance.id)
        .where(Task.assignee_id == Person.id, Task.status == "open",
               WorkflowInstance.state == "in_progress")
        .order_by(Person.id.desc())).first()
    login(client, employee)
    work = client.get("/tasks")
    assert work.status_code == 200
    assert f"/plans/{plan_id}" in work.text
    assert client.get(f"/plans/{plan_id}").status_code == 200

    assert not seed_scaled(engine, registry, "tiny").created  # a second run touches nothing
