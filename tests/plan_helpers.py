"""Improvement plans built through the plan services (fast set-up for tests whose subject is
what happens next: reminders, checkpoints, the review)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.org.models import Person
from app.plans import content, review, service
from app.plans.models import ImprovementPlan
from app.plans.schemas import (
    CauseDraft,
    GapDecision,
    GapDraft,
    MethodDraft,
    PlanDetails,
    ReviewDraft,
    StepDraft,
)

REVIEW = {
    "period_label": "2027年1月", "cut_off_on": "2027-01-31", "post": "柜员",
    "indicators": [{"indicator": "服务满意率", "unit": "%", "balance_kind": "point",
                    "actual": 90, "plan_value": 95, "time_proportional_target": 95}],
    "problems": [{"problem": "高峰期等候时间长", "cause": "窗口不足", "indicator": "服务满意率"}],
    "targets": [{"indicator": "服务满意率", "value": 95, "unit": "%", "deadline": "2027-03-31"}],
}


def proposed_plan(db: Session, employee: Person, supervisor: Person, *, title: str = "服务态度生硬",
                  period: tuple[date, date] = (date(2026, 12, 1), date(2027, 1, 31)),
                  steps: tuple[tuple[str, date], ...] = (("参加服务礼仪培训", date(2026, 12, 15)),)
                  ) -> ImprovementPlan:
    """A complete plan proposed for signature (monthly checkpoints, one per step date)."""
    plan = service.open_plan(db, actor=employee, employee_id=None, title=title, gaps=[
        GapDraft(requirement="客户评价满意率不低于95%", actual="多次被客户评价服务态度差")])
    pid = plan.id
    service.act(db, plan_id=pid, actor=employee, trigger="record_gap")
    [gap] = content.gaps_of(db, pid)
    service.decide_gap(db, plan_id=pid, actor=employee, gap_id=gap.id,
                       decision=GapDecision(included=True))
    service.add_cause(db, plan_id=pid, actor=supervisor, gap_id=gap.id, cause=CauseDraft(
        side="supervisor", nature="subjective", catalogue_key="supervision_not_timely"))
    service.act(db, plan_id=pid, actor=employee, trigger="analyse_causes")
    service.add_method(db, plan_id=pid, actor=employee, method=MethodDraft(
        description="每日晨会演练服务话术", origin="brainstorming", chosen=True))
    service.act(db, plan_id=pid, actor=employee, trigger="choose_methods")
    service.update_details(db, plan_id=pid, actor=employee, details=PlanDetails(
        goal="客户服务评价满意率达到95%", goal_metric="满意率", goal_unit="%", goal_target=95,
        resources="主管每周听课一次", period_start=period[0], period_end=period[1]))
    for text, day in steps:
        service.add_step(db, plan_id=pid, actor=employee, step=StepDraft(
            description=text, due_on=day, expected_result="培训合格证"))
    service.act(db, plan_id=pid, actor=employee, trigger="draft_plan")
    service.act(db, plan_id=pid, actor=employee, trigger="propose")
    db.commit()
    return plan


def running_plan(db: Session, employee: Person, supervisor: Person, **options: object
                 ) -> ImprovementPlan:
    """A plan both signed and began carrying out (its checkpoints open)."""
    plan = proposed_plan(db, employee, supervisor, **options)  # type: ignore[arg-type]
    service.act(db, plan_id=plan.id, actor=employee, trigger="sign")
    service.act(db, plan_id=plan.id, actor=supervisor, trigger="sign")
    service.act(db, plan_id=plan.id, actor=employee, trigger="begin")
    db.commit()
    return plan


def submitted_review(db: Session, plan: ImprovementPlan, employee: Person) -> None:
    """The employee writes the review and submits it."""
    review.save(db, plan=plan, instance=service.instance_of(db, plan), actor=employee,
                draft=ReviewDraft(**REVIEW))
    service.act(db, plan_id=plan.id, actor=employee, trigger="submit_review")
    db.commit()
