"""Hand-built data for the report tests: overdue work across branches A and B, with known ages.

The clock is frozen while the data is made (26 Oct 2026) and moved to Wednesday 18 Nov 2026,
10:00 for the reports. Working days overdue on 18 Nov (no holidays in between):
due 17 Nov → 1 (0–2), due 12 Nov → 4 (3–5), due 9 Nov → 7 (6–10), due 30 Oct → 13 (>10).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import Session, select

from app import clock
from app.engine import calendar, runtime
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.org import service as org
from app.org.models import Person
from app.plans import service as plans
from app.plans.models import ImprovementPlan
from app.plans.schemas import GapDraft
from app.promotions.models import PromotionRequest, PromotionRound
from tests.factories import Bank, bank, person

MADE_ON = datetime(2026, 10, 26, 9, 0)
TODAY = date(2026, 11, 18)
NOW = datetime(2026, 11, 18, 10, 0)
DUE_1 = date(2026, 11, 17)  # 1 working day overdue
DUE_4 = date(2026, 11, 12)  # 4
DUE_7 = date(2026, 11, 9)  # 7
DUE_13 = date(2026, 10, 30)  # 13
DUE_LATER = date(2026, 11, 20)  # not overdue yet

GAP = GapDraft(requirement="每月6日前报送报表", actual="最早8日报送", metric="报送延迟天数",
               unit="天", baseline=2, target=0, source="requirement_comparison")


def due(day: date) -> datetime:
    """The deadline instant of a day (end of the local day)."""
    return calendar.end_of_day(day)


@dataclass
class World:
    """The bank and the cases the report tests count."""

    bank: Bank
    hr_ho: Person
    p1: ImprovementPlan  # employee, sub-branch A1, cycle 1: 2 tasks due 17 Nov + HR group 9 Nov
    p2: ImprovementPlan  # colleague, A1, cycle 2: 2 tasks due 12 Nov, one more due 20 Nov
    p3: ImprovementPlan  # leader at branch A itself, cycle 3: 1 task due 30 Oct
    p4: ImprovementPlan  # employee_b, sub-branch B1: 2 tasks due 9 Nov
    group_task: Task  # HR at branch A, on p1, due 9 Nov
    closed_task: Task  # on p1, due 1 Nov, closed 17 Nov at noon

    def tasks(self, db: Session, plan: ImprovementPlan) -> list[Task]:
        """A plan's open tasks, by id."""
        return list(db.exec(select(Task).where(Task.instance_id == plan.instance_id,
                                               Task.status == TaskStatus.open)
                            .order_by(Task.id)))


def _plan(db: Session, who: Person, title: str, due_on: date, cycle: int = 1) -> ImprovementPlan:
    plan = plans.start_plan(db, employee=who, initiator=who, title=title, gaps=[GAP])
    plan.cycle = cycle
    for task in db.exec(select(Task).where(Task.instance_id == plan.instance_id)):
        task.due_at = due(due_on)
    db.flush()
    return plan


def _close(db: Session, plan: ImprovementPlan, state: str, **context: str) -> None:
    instance = db.get(WorkflowInstance, plan.instance_id)
    assert instance is not None
    instance.state = state
    instance.closed_at = clock.now()
    instance.context = {**instance.context, **context}
    for task in db.exec(select(Task).where(Task.instance_id == plan.instance_id)):
        task.status = TaskStatus.done
        task.closed_at = clock.now()
    db.flush()


def build(db: Session, registry) -> World:  # noqa: ANN001 - the registry fixture
    """The whole world, committed, with the clock left at NOW."""
    clock.freeze(MADE_ON)
    b = bank(db)
    registry.sync(db)
    hr_ho = person(db, b.head_office, name="总行人事", post="人力资源部")
    org.assign(db, person=hr_ho, kind="role", name="hr", unit=b.head_office)
    p1 = _plan(db, b.employee, "报表迟报", DUE_1)
    p2 = _plan(db, b.colleague, "服务态度生硬", DUE_4, cycle=2)
    p3 = _plan(db, b.leader_a, "内控评价", DUE_13, cycle=3)
    p4 = _plan(db, b.employee_b, "存款低于计划", DUE_7)
    later = Task(instance_id=p2.instance_id, state="draft", kind="act",
                 assignee_id=b.colleague.id, actor_expr="subject", due_at=due(DUE_LATER))
    group_task = Task(instance_id=p1.instance_id, state="draft", kind="act", group_kind="role",
                      group_name="hr", org_unit_id=b.branch_a.id,
                      actor_expr="role:hr@subject.branch", due_at=due(DUE_7))
    closed_task = Task(instance_id=p1.instance_id, state="draft", kind="act",
                       assignee_id=b.employee.id, actor_expr="subject",
                       due_at=due(date(2026, 11, 1)), status=TaskStatus.done,
                       closed_at=calendar.start_of_day(DUE_1).replace(hour=12))
    db.add_all([later, group_task, closed_task])
    # Closed plans: outcomes (A: met, HR rotation; B: met).
    _close(db, _plan(db, b.employee, "已达标", DUE_LATER), "closed")
    _close(db, _plan(db, b.colleague, "轮岗", DUE_LATER, cycle=3), "closed_by_hr",
           last_hr_decision="rotation")
    _close(db, _plan(db, b.employee_b, "乙已达标", DUE_LATER), "closed")
    db.commit()
    clock.freeze(NOW)
    return World(b, hr_ho, p1, p2, p3, p4, group_task, closed_task)


def promotion_round(db: Session, registry, world: World) -> PromotionRound:  # noqa: ANN001
    """A 2026 round with two requests from branch A (one moved on) and one from branch B."""
    round_ = PromotionRound(scheme="bocom_private_finance_2002", year=2026, assessment_year=2025,
                            opens_on=date(2026, 11, 1), closes_on=date(2026, 11, 30))
    db.add(round_)
    db.flush()
    b = world.bank
    for who, state in ((b.employee, "applied"), (b.colleague, "recommendation"),
                       (b.employee_b, "applied")):
        instance = runtime.start(db, workflow="promotion_pf_junior", subject=who, title="晋升",
                                 registry=registry)
        instance.state = state
        db.add(PromotionRequest(round_id=round_.id, scheme=round_.scheme, person_id=who.id,
                                applicant_id=who.id, kind="self_application",
                                target_title="cm", tier="cm", workflow="promotion_pf_junior",
                                instance_id=instance.id))
    db.commit()
    return round_


def at(day: date, hour: int = 10) -> datetime:
    """Freeze the clock at a local hour of a day."""
    clock.freeze(datetime.combine(day, time(hour, 0)))
    return clock.now()
