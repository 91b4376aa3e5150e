"""Improvement plans through the domain services: content rules, signatures, checkpoints, cycles."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import audit, runtime
from app.engine.models import SignOff, Task, TaskStatus
from app.engine.runtime import GuardFailed
from app.errors import InvalidTransition, NotAllowed, PlanNotFound, ValidationFailed
from app.plans import checkpoints, content, difference, review, service
from app.plans.models import Checkpoint, Evidence, ImprovementPlan, PlanView
from app.plans.schemas import (
    CauseDraft,
    CheckEntry,
    GapDecision,
    GapDraft,
    IndicatorRow,
    MethodDraft,
    PlanDetails,
    ProblemRow,
    ProgressEntry,
    ReviewDraft,
    StepDraft,
)
from tests.factories import bank

LATE_REPORT = GapDraft(requirement="每月6日前报送报表", actual="最早8日报送", metric="报送延迟天数",
                       unit="天", baseline=2, target=0, source="requirement_comparison")


@pytest.fixture
def org(db: Session, registry):
    b = bank(db)
    registry.sync(db)
    db.commit()
    return b


def new_plan(db: Session, org) -> ImprovementPlan:
    plan = service.start_plan(db, employee=org.employee, initiator=org.employee,
                              title="报表迟报", gaps=[LATE_REPORT])
    db.commit()
    return plan


def fill_to_proposal(db: Session, org, plan: ImprovementPlan) -> None:
    e, pid = org.employee, plan.id
    service.act(db, plan_id=pid, actor=e, trigger="record_gap")
    gap = content.gaps_of(db, pid)[0]
    service.decide_gap(db, plan_id=pid, actor=e, gap_id=gap.id,
                       decision=GapDecision(included=True))
    service.add_cause(db, plan_id=pid, actor=org.manager_a, gap_id=gap.id,
                      cause=CauseDraft(side="environment", nature="objective",
                                       catalogue_key="data_not_on_time"))
    service.act(db, plan_id=pid, actor=e, trigger="analyse_causes")
    method = service.add_method(db, plan_id=pid, actor=e,
                                method=MethodDraft(description="重新梳理报表流程",
                                                   origin="process_remapping"))
    service.choose_method(db, plan_id=pid, actor=org.manager_a, method_id=method.id, chosen=True)
    service.act(db, plan_id=pid, actor=e, trigger="choose_methods")
    service.update_details(db, plan_id=pid, actor=e, details=PlanDetails(
        goal="每月6日前报送", goal_metric="报送延迟天数", goal_target=0, goal_unit="天",
        resources="数据部门提前提供底稿", period_start=date(2026, 12, 1),
        period_end=date(2027, 2, 28), cadence="monthly"))
    service.add_step(db, plan_id=pid, actor=e, step=StepDraft(
        description="与数据部门约定取数时间", due_on=date(2026, 12, 10),
        expected_result="书面约定"))
    service.act(db, plan_id=pid, actor=e, trigger="draft_plan")
    service.act(db, plan_id=pid, actor=e, trigger="propose")
    db.commit()


def test_a_plan_starts_as_a_draft_with_its_gap_and_cycle_one(db, org) -> None:
    plan = new_plan(db, org)
    instance = service.instance_of(db, plan)
    assert (instance.state, plan.cycle, instance.context["cycle"]) == ("draft", 1, 1)
    assert [g.requirement for g in content.gaps_of(db, plan.id)] == ["每月6日前报送报表"]


def test_gap_step_needs_at_least_one_gap(db, org) -> None:
    plan = service.start_plan(db, employee=org.employee, initiator=None, title="空计划")
    with pytest.raises(GuardFailed, match="at least one performance gap"):
        service.act(db, plan_id=plan.id, actor=org.employee, trigger="record_gap")


def test_excluding_a_gap_needs_a_reason_and_one_gap_must_stay(db, org) -> None:
    plan = new_plan(db, org)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="record_gap")
    gap = content.gaps_of(db, plan.id)[0]
    with pytest.raises(ValidationFailed) as caught:
        service.decide_gap(db, plan_id=plan.id, actor=org.employee, gap_id=gap.id,
                           decision=GapDecision(included=False))
    assert "exclusion_reason" in caught.value.field_errors
    service.decide_gap(db, plan_id=plan.id, actor=org.employee, gap_id=gap.id,
                       decision=GapDecision(included=False, exclusion_reason="系统原因"))
    with pytest.raises(GuardFailed, match="At least one gap must enter the plan"):
        service.act(db, plan_id=plan.id, actor=org.employee, trigger="analyse_causes")


def test_included_gap_needs_a_cause(db, org) -> None:
    plan = new_plan(db, org)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="record_gap")
    gap = content.gaps_of(db, plan.id)[0]
    service.decide_gap(db, plan_id=plan.id, actor=org.employee, gap_id=gap.id,
                       decision=GapDecision(included=True))
    with pytest.raises(GuardFailed, match="at least one cause"):
        service.act(db, plan_id=plan.id, actor=org.employee, trigger="analyse_causes")


def test_plan_rules_every_step_dated_goal_quantified_inside_period(db, org) -> None:
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    instance = service.instance_of(db, plan)
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="send_back",
                payload={"reason": "目标需量化"})
    with pytest.raises(ValidationFailed) as caught:
        service.add_step(db, plan_id=plan.id, actor=org.employee, step=StepDraft(
            description="复盘", due_on=date(2027, 5, 1), expected_result="复盘记录"))
    assert "inside the plan period" in str(caught.value.field_errors["due_on"])
    with pytest.raises(ValidationFailed) as caught:
        service.add_step(db, plan_id=plan.id, actor=org.employee,
                         step=StepDraft(description="复盘", expected_result="复盘记录"))
    assert "needs a date" in str(caught.value.field_errors["due_on"])
    service.update_details(db, plan_id=plan.id, actor=org.employee, details=PlanDetails(
        goal="态度改善", period_start=date(2026, 12, 1), period_end=date(2027, 2, 28)))
    with pytest.raises(GuardFailed, match="not complete"):
        service.act(db, plan_id=plan.id, actor=org.employee, trigger="propose")
    from app.engine.guards import GuardContext
    from app.plans.guards import plan_problems

    ctx = GuardContext(session=db, instance=instance, actor=org.employee, payload={},
                       spec=None)  # type: ignore[arg-type]
    assert "goal_target" in plan_problems(ctx, plan)


def test_both_sign_the_exact_version_and_an_edit_voids_signatures(db, org) -> None:
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="sign")
    db.commit()
    first_hash = content.latest_version(db, plan.id).content_hash
    service.add_step(db, plan_id=plan.id, actor=org.manager_a, step=StepDraft(
        description="每周核对数据", due_on=date(2027, 1, 15), expected_result="核对记录"))
    db.commit()
    signatures = db.exec(select(SignOff).where(SignOff.instance_id == plan.instance_id)).all()
    assert all(s.voided_at is not None for s in signatures)
    second = content.latest_version(db, plan.id)
    assert second.number == 2 and second.content_hash != first_hash
    assert any("每周核对数据" in line for line in difference.diff(
        service.versions(db, plan=plan)[0], second, "zh_CN"))
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="sign")
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="sign")
    db.commit()
    assert service.instance_of(db, plan).state == "plan_agreed"
    valid = [s for s in db.exec(select(SignOff).where(SignOff.instance_id == plan.instance_id))
             if s.voided_at is None]
    assert {s.content_hash for s in valid} == {second.content_hash}


def test_a_signature_from_any_path_binds_to_the_plan_version(db, org) -> None:
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    # an emailed action link fires the engine directly, without the plan service
    runtime.fire(db, service.instance_of(db, plan), "sign", org.manager_a, {})
    db.commit()
    signature = db.exec(select(SignOff).where(SignOff.instance_id == plan.instance_id)).one()
    assert signature.content_hash == content.latest_version(db, plan.id).content_hash != ""


def test_checkpoints_come_from_steps_and_cadence(db, org) -> None:
    assert checkpoints.checkpoint_dates(date(2026, 12, 1), date(2027, 1, 31), "ten_days",
                                        [date(2026, 12, 5)]) == [
        date(2026, 12, 5), date(2026, 12, 10), date(2026, 12, 20), date(2026, 12, 31),
        date(2027, 1, 10), date(2027, 1, 20), date(2027, 1, 31)]
    assert checkpoints.cadence_dates(date(2026, 12, 1), date(2026, 12, 31), "weekly") == [
        date(2026, 12, 8), date(2026, 12, 15), date(2026, 12, 22), date(2026, 12, 29)]


def agreed_and_running(db: Session, org) -> ImprovementPlan:
    plan = new_plan(db, org)
    fill_to_proposal(db, org, plan)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="sign")
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="sign")
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="begin")
    db.commit()
    return plan


def test_checkpoint_is_recorded_by_employee_then_checked_by_supervisor(db, org) -> None:
    plan = agreed_and_running(db, org)
    instance = service.instance_of(db, plan)
    points = checkpoints.of_plan(db, plan.id)
    assert [p.due_on for p in points] == [date(2026, 12, 10), date(2026, 12, 31),
                                          date(2027, 1, 31), date(2027, 2, 28)]
    first = points[0]
    with pytest.raises(NotAllowed):
        checkpoints.check(db, plan=plan, instance=instance, checkpoint_id=first.id,
                          actor=org.employee, entry=CheckEntry(result="on_track"))
    with pytest.raises(ValidationFailed) as caught:
        checkpoints.record_progress(db, plan=plan, instance=instance, checkpoint_id=first.id,
                                    actor=org.employee, entry=ProgressEntry(progress="已约定"),
                                    files=[("virus.exe", b"MZ...")])
    assert "not accepted" in str(caught.value.field_errors["files"])
    with pytest.raises(ValidationFailed) as caught:
        checkpoints.record_progress(db, plan=plan, instance=instance, checkpoint_id=first.id,
                                    actor=org.employee, entry=ProgressEntry(progress="已约定"),
                                    files=[("fake.pdf", b"not a pdf")])
    assert "does not match" in str(caught.value.field_errors["files"])
    checkpoints.record_progress(db, plan=plan, instance=instance, checkpoint_id=first.id,
                                actor=org.employee,
                                entry=ProgressEntry(progress="已与数据部门约定",
                                                    evidence_text="会议纪要"),
                                files=[("agreement.pdf", b"%PDF-1.4 test")])
    db.commit()
    tasks = db.exec(select(Task).where(Task.ref == f"checkpoint:{first.id}")).all()
    assert {(t.kind, t.status, t.assignee_id) for t in tasks} == {
        ("checkpoint_record", TaskStatus.done, org.employee.id),
        ("checkpoint_check", TaskStatus.open, org.manager_a.id)}
    with pytest.raises(ValidationFailed):
        checkpoints.check(db, plan=plan, instance=instance, checkpoint_id=first.id,
                          actor=org.manager_a, entry=CheckEntry(result="at_risk"))
    checkpoints.check(db, plan=plan, instance=instance, checkpoint_id=first.id,
                      actor=org.manager_a, entry=CheckEntry(result="on_track", comment="按计划"))
    db.commit()
    assert db.get(Checkpoint, first.id).status == "checked"
    evidence = db.exec(select(Evidence).where(Evidence.checkpoint_id == first.id)).all()
    assert sorted(e.filename or e.text for e in evidence) == ["agreement.pdf", "会议纪要"]
    assert [e.trigger for e in audit.trail(db, instance.id)][-2:] == [
        "checkpoint_recorded", "checkpoint_checked"]


def write_review(db: Session, org, plan: ImprovementPlan, actual: float) -> None:
    instance = service.instance_of(db, plan)
    problems = [ProblemRow(problem="数据晚到", cause="外部", indicator="按时报送率")] \
        if actual < 100 else []
    review.save(db, plan=plan, instance=instance, actor=org.employee, draft=ReviewDraft(
        period_label="2027年一季度", cut_off_on=date(2027, 2, 28),
        indicators=[IndicatorRow(indicator="按时报送率", unit="%", actual=actual, plan_value=100,
                                 time_proportional_target=100)],
        problems=problems))


def test_review_requires_a_problem_for_each_indicator_below_plan(db, org) -> None:
    plan = agreed_and_running(db, org)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="submit_review")
    instance = service.instance_of(db, plan)
    review.save(db, plan=plan, instance=instance, actor=org.employee, draft=ReviewDraft(
        cut_off_on=date(2027, 2, 28),
        indicators=[IndicatorRow(indicator="按时报送率", unit="%", actual=80, plan_value=100)]))
    with pytest.raises(GuardFailed, match="Below plan"):
        service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="review",
                    payload={"outcome": "below_target"})


def test_cycles_continue_until_the_limit_then_hr_decides(db, org) -> None:
    plan = agreed_and_running(db, org)
    for cycle in (1, 2, 3):
        if cycle > 1:
            nxt = db.exec(select(ImprovementPlan).where(
                ImprovementPlan.previous_plan_id == plan.id)).one()
            assert nxt.cycle == cycle
            assert [g.requirement for g in content.gaps_of(db, nxt.id)] == ["每月6日前报送报表"]
            fill_to_proposal(db, org, nxt)
            service.act(db, plan_id=nxt.id, actor=org.employee, trigger="sign")
            service.act(db, plan_id=nxt.id, actor=org.manager_a, trigger="sign")
            service.act(db, plan_id=nxt.id, actor=org.employee, trigger="begin")
            plan = nxt
        service.act(db, plan_id=plan.id, actor=org.employee, trigger="submit_review")
        write_review(db, org, plan, actual=90)
        service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="review",
                    payload={"outcome": "below_target", "comment": "仍有延迟"})
        db.commit()
    instance = service.instance_of(db, plan)
    assert instance.state == "hr_decision"
    with pytest.raises(PlanNotFound):  # another branch's HR is not even told it exists
        service.act(db, plan_id=plan.id, actor=org.hr_b, trigger="decide",
                    payload={"hr_decision": "rotation", "reason": "x"})
    db.rollback()
    service.act(db, plan_id=plan.id, actor=org.hr_a, trigger="decide",
                payload={"hr_decision": "change_of_post", "decision_applies_to": "both",
                         "reason": "三个周期未达要求"})
    db.commit()
    assert service.instance_of(db, plan).state == "closed_by_hr"


def test_plans_are_hidden_from_other_branches_and_colleagues(db, org) -> None:
    plan = new_plan(db, org)
    for outsider in (org.hr_b, org.colleague, org.employee_b, org.admin):
        with pytest.raises(PlanNotFound):
            service.get_plan(db, plan_id=plan.id, viewer=outsider)
    for insider in (org.employee, org.manager_a, org.president_a, org.hr_a):
        assert service.get_plan(db, plan_id=plan.id, viewer=insider, log_view=True).id == plan.id
    db.commit()
    assert len(db.exec(select(PlanView).where(PlanView.plan_id == plan.id)).all()) == 4
    assert service.list_plans(db, viewer=org.hr_b).total == 0
    assert service.list_plans(db, viewer=org.hr_a).total == 1


def test_content_cannot_change_once_agreed_without_adjusting(db, org) -> None:
    plan = agreed_and_running(db, org)
    with pytest.raises(InvalidTransition, match="Adjust the plan"):
        service.add_step(db, plan_id=plan.id, actor=org.employee, step=StepDraft(
            description="x", due_on=date(2027, 1, 1), expected_result="y"))
    with pytest.raises(NotAllowed):  # the director above may see the plan, not adjust it
        service.act(db, plan_id=plan.id, actor=org.president_a, trigger="adjust",
                    payload={"reason": "x"})
    db.rollback()
    service.act(db, plan_id=plan.id, actor=org.manager_a, trigger="adjust",
                payload={"reason": "目标调整"})
    db.commit()
    assert {c.status for c in checkpoints.of_plan(db, plan.id)} == {"cancelled"}


def test_edit_history_is_audited_with_time(db, org) -> None:
    clock.freeze(datetime(2026, 11, 2, 9, 0))
    plan = new_plan(db, org)
    service.act(db, plan_id=plan.id, actor=org.employee, trigger="record_gap")
    db.commit()
    events = audit.trail(db, plan.instance_id)
    assert [e.trigger for e in events] == ["start", "record_gap"]
    assert events[0].at == clock.now()
