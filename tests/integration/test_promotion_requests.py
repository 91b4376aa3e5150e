"""Promotion requests (DOMAIN §4): windows, screening, each route's exact steps, send-back,
rejection, skip-level, the appointment's effective date and the non-blocking filing notice."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import audit, runtime
from app.engine.registry import Registry
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.promotions import grades
from app.promotions import service as promotions
from app.promotions.eligibility import eligibility
from app.promotions.models import Appointment, FilingNotice, GradeHistory, PromotionRequest
from app.promotions.route import route_steps
from tests.promotion_helpers import (
    GOOD_FACTS,
    act,
    all_task_states,
    annual,
    flag,
    instance_of,
    open_tasks,
    provincial_bank,
    quarters,
)

PF = "bocom_private_finance_2002"
CORP = "corporate_cm_2012"
POST = "bocom_post_grades"
IN_PF_WINDOW = datetime(2026, 3, 10, 10, 0)
IN_CORP_WINDOW = datetime(2026, 1, 20, 10, 0)


@pytest.fixture
def org(db: Session, registry: Registry):
    b = provincial_bank(db)
    registry.sync(db)
    db.commit()
    return b


def apply_pf(db: Session, who, title: str, *, by=None, **extra) -> PromotionRequest:
    request = promotions.apply(db, scheme=PF, person=who, applicant=by or who,
                               target_title=title, facts=extra.pop("facts", GOOD_FACTS), **extra)
    db.commit()
    return request


def set_grade(db: Session, who, title: str, scheme: str = PF) -> None:
    grades.hold_title(db, person=who, scheme=scheme, title=title, on=date(2020, 1, 1))
    db.commit()


def path_of(db: Session, request: PromotionRequest) -> list[str]:
    return [e.to_state for e in audit.trail(db, request.instance_id)]


def waiting_on(db: Session, request: PromotionRequest) -> set:
    return {(t.assignee_id, t.group_kind, t.group_name, t.org_unit_id)
            for t in open_tasks(db, instance_of(db, request))}


# --- windows and rounds -----------------------------------------------------------------------


@pytest.mark.parametrize(("day", "open_"), [
    (date(2026, 2, 28), False), (date(2026, 3, 1), True), (date(2026, 3, 31), True),
    (date(2026, 4, 1), False),
])
def test_applications_are_taken_only_inside_the_schemes_window(db, org, day, open_) -> None:
    clock.freeze(datetime.combine(day, datetime.min.time()).replace(hour=9))
    if open_:
        assert apply_pf(db, org.employee_b, "assistant_cm").instance_id is not None
        return
    with pytest.raises(NotAllowed) as caught:
        apply_pf(db, org.employee_b, "assistant_cm")
    year = 2026 if day < date(2026, 3, 1) else 2027
    assert f"Applications open on {year}-03-01 and close on {year}-03-31" in caught.value.text()


def test_one_round_a_year_per_scheme(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    first = apply_pf(db, org.employee_b, "assistant_cm")
    with pytest.raises(InvalidTransition, match="one a year per scheme"):
        apply_pf(db, org.employee_b, "assistant_cm")
    db.rollback()
    clock.freeze(IN_PF_WINDOW + timedelta(days=365))
    second = apply_pf(db, org.employee_b, "assistant_cm")
    assert db.get(PromotionRequest, first.id).round_id != second.round_id


def test_the_submit_guard_refuses_outside_the_window_whoever_fires_it(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    request = apply_pf(db, org.employee_b, "assistant_cm")
    instance = instance_of(db, request)
    clock.freeze(datetime(2026, 5, 1, 9))
    from app.engine.guards import GUARDS, GuardContext

    refusal = GUARDS["promotion_window_open"](GuardContext(db, instance, org.employee_b, {},
                                                           None))  # type: ignore[arg-type]
    assert refusal is not None and "2026-03-31" in str(refusal)


# --- who may apply ----------------------------------------------------------------------------


def test_a_supervisor_may_nominate_but_a_colleague_may_not(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    with pytest.raises(NotAllowed):
        apply_pf(db, org.employee, "assistant_cm", by=org.colleague)
    db.rollback()
    request = apply_pf(db, org.employee, "assistant_cm", by=org.manager)
    assert (request.kind, request.applicant_id) == ("nomination", org.manager.id)
    assert instance_of(db, request).initiator_id == org.manager.id


def test_entering_the_corporate_cm_team_is_submitted_by_the_operating_unit(db, org) -> None:
    clock.freeze(IN_CORP_WINDOW)
    with pytest.raises(NotAllowed, match="nomination"):
        promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.employee,
                         target_title="assistant_cm")
    db.rollback()
    request = promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.manager,
                               target_title="assistant_cm")
    assert request.kind == "nomination"


# --- eligibility and screening at application ------------------------------------------------


def test_an_application_for_a_title_not_eligible_is_refused_citing_the_rule(db, org) -> None:
    clock.freeze(IN_CORP_WINDOW)
    quarters(db, org.employee, 2025, [1, 2, 2, 2])
    with pytest.raises(NotAllowed) as caught:
        promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.employee,
                         target_title="senior_cm")
    text = caught.value.text()
    assert "A.2 Two quarters at level 1" in text
    assert "In 2025, 1 of 4 recorded quarter(s) were at level 1 or better." in text


def test_eligibility_opens_the_evaluation_and_does_not_promote(db, org) -> None:
    quarters(db, org.employee, 2025, [1, 1, 2, 2])
    found = eligibility(db, person=org.employee, scheme=CORP, year=2025)
    assert [v.title.name for v in found.eligible] == ["assistant_cm", "cm", "senior_cm"]
    assert org.employee.grade == ""
    assert db.exec(select(GradeHistory)).all() == []


def test_a_hard_qualification_not_met_refuses_the_application(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    with pytest.raises(ValidationFailed) as caught:
        apply_pf(db, org.employee_b, "assistant_cm", facts={**GOOD_FACTS, "healthy": False})
    assert set(caught.value.field_errors) == {"exception_q2"}
    assert db.exec(select(PromotionRequest)).all() == []


def test_a_generally_qualification_not_met_goes_on_with_a_written_justification(db, org):
    clock.freeze(IN_PF_WINDOW)
    facts = {**GOOD_FACTS, "education": "secondary"}
    with pytest.raises(ValidationFailed) as caught:
        apply_pf(db, org.employee_b, "assistant_cm", facts=facts)
    assert set(caught.value.field_errors) == {"exception_q3"}
    db.rollback()
    request = apply_pf(db, org.employee_b, "assistant_cm", facts=facts,
                       justifications={"exception_q3": "在职攻读本科，业绩突出"})
    q3 = next(r for r in request.screening["results"] if r["rule"] == "Q3")
    assert (q3["passed"], q3["exception"]) == (False, "在职攻读本科，业绩突出")
    assert request.screening["passed"] is True


def test_every_declared_fact_is_asked_for(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    with pytest.raises(ValidationFailed) as caught:
        apply_pf(db, org.employee_b, "assistant_cm", facts={"healthy": "yes"})
    assert "fact_education" in caught.value.field_errors
    assert "fact_healthy" not in caught.value.field_errors


# --- skip-level -------------------------------------------------------------------------------


def test_skip_level_needs_the_outstanding_contribution_flag_and_its_justification(db, org):
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "assistant_cm")
    with pytest.raises(ValidationFailed) as caught:
        apply_pf(db, org.employee_b, "senior_cm")
    assert set(caught.value.field_errors) == {"outstanding_contribution", "justification"}
    db.rollback()
    with pytest.raises(ValidationFailed) as caught:
        apply_pf(db, org.employee_b, "senior_cm", outstanding_contribution=True)
    assert set(caught.value.field_errors) == {"justification"}
    db.rollback()
    request = apply_pf(db, org.employee_b, "senior_cm", outstanding_contribution=True,
                       justification="引进私人银行客户金融资产3亿元")
    assert request.skip_level and request.current_title == "assistant_cm"
    instance = instance_of(db, request)
    assert instance.context["skip_level"] and instance.context["justification_given"]


def test_a_reviewers_outstanding_contribution_flag_allows_skip_level(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "assistant_cm")
    flag(db, org.employee_b, 2025, "outstanding_contribution", by=org.manager_b,
         justification="全年引进高端客户40户")
    request = apply_pf(db, org.employee_b, "senior_cm")
    assert request.skip_level and request.outstanding_contribution
    assert request.justification == "全年引进高端客户40户"


def test_the_skip_level_guard_holds_the_workflow_to_its_justification(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "assistant_cm")
    request = apply_pf(db, org.employee_b, "senior_cm", outstanding_contribution=True,
                       justification="突出贡献")
    instance = instance_of(db, request)
    act(db, instance, "send_back", org.branch_pf, reason="补充材料")
    instance.context = {**instance.context, "justification_given": False}
    db.commit()
    with pytest.raises(runtime.GuardFailed, match="outstanding-contribution"):
        runtime.fire(db, instance, "resubmit", org.employee_b, {})


# --- routes, each with its exact steps --------------------------------------------------------


def test_private_finance_assistant_route_is_department_then_leadership_group_then_hr(db, org):
    clock.freeze(IN_PF_WINDOW)
    request = apply_pf(db, org.employee_b, "assistant_cm")
    instance = instance_of(db, request)
    assert waiting_on(db, request) == {(org.manager_b.id, None, None, None)}
    assert act(db, instance, "recommend", org.manager_b) == "qualification"
    assert waiting_on(db, request) == {(None, "committee", "leadership_group", org.branch.id)}
    assert act(db, instance, "qualify", org.branch_leader) == "appointment"
    assert waiting_on(db, request) == {(None, "role", "hr", org.branch.id)}
    assert act(db, instance, "appoint", org.branch_hr, issue_date="2026-03-20") == "appointed"
    assert path_of(db, request) == ["applied", "recommendation", "qualification",
                                    "appointment", "appointed"]
    assert db.exec(select(FilingNotice)).all() == []  # no head-office filing for junior tiers


def test_private_finance_senior_route_goes_through_the_presidents_office(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    instance = instance_of(db, request)
    assert waiting_on(db, request) == {(None, "role", "private_finance_department",
                                        org.branch.id)}
    act(db, instance, "recommend", org.branch_pf)
    assert waiting_on(db, request) == {(None, "committee", "leadership_group", org.branch.id)}
    act(db, instance, "check", org.branch_leader)
    assert waiting_on(db, request) == {(None, "committee", "president_office", org.branch.id)}
    act(db, instance, "decide", org.branch_president)
    assert waiting_on(db, request) == {(None, "role", "hr", org.branch.id)}
    act(db, instance, "appoint", org.branch_hr, issue_date="2026-03-25", document_no="交银发12号")
    assert path_of(db, request) == ["applied", "recommendation", "leadership_check",
                                    "president_decision", "appointment", "appointed"]


def test_the_head_office_filing_is_a_notice_that_never_blocks_closing(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    instance = instance_of(db, request)
    for trigger, actor in (("recommend", org.branch_pf), ("check", org.branch_leader),
                           ("decide", org.branch_president)):
        act(db, instance, trigger, actor)
    act(db, instance, "appoint", org.branch_hr, issue_date="2026-03-25")
    assert instance.state == "appointed" and instance.closed_at is not None
    assert open_tasks(db, instance) == []
    notice = db.exec(select(FilingNotice)).one()
    assert (notice.group_kind, notice.group_name, notice.org_unit_id) == (
        "role", "head_office_filing", org.head_office.id)
    assert notice.acknowledged_at is None
    assert [n.id for n in promotions.filing_notices_for(db, person=org.filer)] == [notice.id]
    promotions.acknowledge_filing(db, notice_id=notice.id, person=org.filer)
    assert promotions.filing_notices_for(db, person=org.filer) == []


def test_a_subordinate_branchs_outstanding_contributor_goes_to_the_supervising_branch_first(
    db, org
) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee, "cm")
    request = apply_pf(db, org.employee, "senior_cm", outstanding_contribution=True,
                       justification="全年新增私人银行客户120户")
    instance = instance_of(db, request)
    assert waiting_on(db, request) == {(None, "committee", "leadership_group",
                                        org.province.id)}
    with pytest.raises(NotAllowed):
        runtime.fire(db, instance, "approve", org.city_leader, {})
    db.rollback()
    act(db, instance, "approve", org.province_leader)
    for trigger, actor in (("recommend", org.city_pf), ("check", org.city_leader),
                           ("decide", org.city_president)):
        act(db, instance, trigger, actor)
    act(db, instance, "appoint", org.city_hr, issue_date="2026-03-28")
    assert path_of(db, request) == ["applied", "supervising_branch_approval", "recommendation",
                                    "leadership_check", "president_decision", "appointment",
                                    "appointed"]


def test_a_subordinate_branchs_ordinary_senior_candidate_starts_at_the_branch(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee, "cm")
    request = apply_pf(db, org.employee, "senior_cm")
    assert instance_of(db, request).state == "recommendation"
    assert instance_of(db, request).context["via_supervising_branch"] is False


def test_corporate_grade_adjustment_route_is_evaluated_reviewed_and_approved(db, org) -> None:
    clock.freeze(IN_CORP_WINDOW)
    quarters(db, org.employee, 2025, [3, 4, 2, 4])
    set_grade(db, org.employee, "assistant_cm")
    request = promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.employee,
                               target_title="cm")
    db.commit()
    instance = instance_of(db, request)
    assert waiting_on(db, request) == {(org.manager.id, None, None, None)}
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "evaluate", org.manager, {})
    assert {"daily_performance", "business_ability", "marketing_results"} <= set(
        caught.value.field_errors)
    db.rollback()
    act(db, instance, "evaluate", org.manager, daily_performance="勤勉", business_ability="熟练",
        marketing_results="新增对公客户8户")
    assert waiting_on(db, request) == {(None, "role", "corporate_department", org.province.id)}
    act(db, instance, "review", org.corporate_reviewer)
    assert waiting_on(db, request) == {(None, "committee", "president_office", org.province.id)}
    clock.freeze(datetime(2026, 2, 3, 15))
    act(db, instance, "approve", org.province_president)
    assert path_of(db, request) == ["applied", "sub_branch_evaluation", "corporate_review",
                                    "president_approval", "appointed"]
    appointment = db.exec(select(Appointment)).one()
    assert appointment.effective_from == date(2026, 2, 3)  # the approval day
    assert grades.title_on(db, person_id=org.employee.id, scheme=CORP) == "cm"


def test_corporate_team_entry_is_checked_then_approved_by_the_vice_president(db, org) -> None:
    clock.freeze(IN_CORP_WINDOW)
    request = promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.manager,
                               target_title="assistant_cm")
    db.commit()
    instance = instance_of(db, request)
    assert waiting_on(db, request) == {(None, "role", "corporate_department", org.province.id)}
    with pytest.raises(InvalidTransition):  # level by level: no step can be skipped
        runtime.fire(db, instance, "approve", org.vice_president, {})
    db.rollback()
    act(db, instance, "check", org.corporate_reviewer)
    assert waiting_on(db, request) == {(None, "role", "vice_president_in_charge",
                                        org.province.id)}
    act(db, instance, "approve", org.vice_president)
    assert path_of(db, request) == ["applied", "corporate_check", "vice_president_approval",
                                    "appointed"]


def test_post_grade_route_is_qualification_review_then_branch_appointment(db, org) -> None:
    clock.freeze(datetime(2026, 1, 15, 9))
    set_grade(db, org.employee_b, "grade_3", POST)
    request = promotions.apply(db, scheme=POST, person=org.employee_b,
                               applicant=org.employee_b, target_title="grade_2")
    db.commit()
    instance = instance_of(db, request)
    assert waiting_on(db, request) == {(None, "committee", "cm_management_group",
                                        org.branch.id)}
    act(db, instance, "qualify", org.branch_cm_group)
    act(db, instance, "appoint", org.branch_hr, issue_date="2026-01-20")
    assert path_of(db, request) == ["applied", "qualification_review", "appointment",
                                    "appointed"]
    history = grades.history(db, person_id=org.employee_b.id)
    assert [(h.title, h.staff_grade, h.previous_grade, h.source) for h in history] == [
        ("grade_3", None, "", "import"), ("grade_2", 7, "grade_3", "appointment")]


# --- send back and reject ---------------------------------------------------------------------


def test_any_step_may_send_back_with_a_reason_and_the_resubmission_starts_again(db, org):
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    instance = instance_of(db, request)
    act(db, instance, "recommend", org.branch_pf)
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "send_back", org.branch_leader, {"reason": " "})
    assert set(caught.value.field_errors) == {"reason"}
    db.rollback()
    assert act(db, instance, "send_back", org.branch_leader, reason="缺少业绩证明") == "returned"
    assert waiting_on(db, request) == {(org.employee_b.id, None, None, None)}
    assert audit.trail(db, instance.id)[-1].comment == "缺少业绩证明"
    assert act(db, instance, "resubmit", org.employee_b, comment="已补充") == "recommendation"
    assert path_of(db, request)[-4:] == ["recommendation", "leadership_check", "returned",
                                         "recommendation"]


def test_a_rejected_case_creates_none_of_the_later_steps(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    instance = instance_of(db, request)
    act(db, instance, "recommend", org.branch_pf)
    assert act(db, instance, "reject", org.branch_leader, reason="业绩不足") == "rejected"
    assert instance.closed_at is not None and open_tasks(db, instance) == []
    assert all_task_states(db, instance) == {"applied", "recommendation", "leadership_check"}
    assert db.exec(select(Appointment)).all() == []
    assert db.exec(select(FilingNotice)).all() == []
    assert grades.title_on(db, person_id=org.employee_b.id, scheme=PF) == "cm"
    with pytest.raises(InvalidTransition):
        runtime.fire(db, instance, "decide", org.branch_president, {})


def test_a_sent_back_case_may_be_withdrawn(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    request = apply_pf(db, org.employee_b, "assistant_cm")
    instance = instance_of(db, request)
    act(db, instance, "send_back", org.manager_b, reason="请先完成培训")
    assert act(db, instance, "withdraw", org.employee_b, reason="明年再申请") == "withdrawn"


# --- the appointment's effective date and grade history --------------------------------------


def test_the_appointment_takes_effect_on_the_issue_date_with_grade_history(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    instance = instance_of(db, request)
    for trigger, actor in (("recommend", org.branch_pf), ("check", org.branch_leader),
                           ("decide", org.branch_president)):
        act(db, instance, trigger, actor)
    act(db, instance, "appoint", org.branch_hr, issue_date="2026-04-01", document_no="发12号")
    appointment = db.exec(select(Appointment)).one()
    assert (appointment.issued_on, appointment.effective_from) == (date(2026, 4, 1),) * 2
    assert (appointment.document_no, appointment.issued_by_id) == ("发12号", org.branch_hr.id)
    assert org.employee_b.grade == ""  # not yet: the document takes effect on 1 April
    assert grades.title_on(db, person_id=org.employee_b.id, scheme=PF,
                           on=date(2026, 3, 31)) == "cm"
    clock.freeze(datetime(2026, 4, 1, 8))
    assert grades.apply_due_grades(db) == 1
    assert grades.apply_due_grades(db) == 0  # the sweep may run twice
    db.commit()
    assert org.employee_b.grade == "高级客户经理"  # the bank's name of the latest title
    assert grades.title_on(db, person_id=org.employee_b.id, scheme=PF) == "senior_cm"
    row = grades.grade_on(db, person_id=org.employee_b.id, on=date(2026, 4, 1))
    assert (row.title, row.previous_grade, row.appointment_id) == ("senior_cm", "cm",
                                                                   appointment.id)


def test_an_issue_date_already_past_changes_the_grade_at_once(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    request = apply_pf(db, org.employee_b, "assistant_cm")
    instance = instance_of(db, request)
    act(db, instance, "recommend", org.manager_b)
    act(db, instance, "qualify", org.branch_leader)
    act(db, instance, "appoint", org.branch_hr, issue_date="2026-03-09")
    assert grades.title_on(db, person_id=org.employee_b.id, scheme=PF) == "assistant_cm"
    assert db.exec(select(Appointment)).one().outcome == "appoint_higher"


def test_a_skip_level_appointment_is_recorded_as_skip_level(db, org) -> None:
    """DOMAIN §3: 越级高聘 is an outcome of its own (assistant straight to senior)."""
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "assistant_cm")
    request = apply_pf(db, org.employee_b, "senior_cm", outstanding_contribution=True,
                       justification="突出贡献")
    instance = instance_of(db, request)
    for trigger, actor in (("recommend", org.branch_pf), ("check", org.branch_leader),
                           ("decide", org.branch_president)):
        act(db, instance, trigger, actor)
    act(db, instance, "appoint", org.branch_hr, issue_date="2026-03-10")
    assert db.exec(select(Appointment)).one().outcome == "skip_level"


# --- blocks at application --------------------------------------------------------------------


def test_a_missed_effective_client_target_refuses_corporate_applications_that_year(db, org):
    clock.freeze(IN_CORP_WINDOW)
    quarters(db, org.employee, 2025, [1, 1, 1, 1])
    flag(db, org.employee, 2025, "major_marketing_achievement", by=org.manager)
    annual(db, org.employee, 2025, effective_client_target_met=False)
    with pytest.raises(NotAllowed, match="A.5"):
        promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.employee,
                         target_title="cm")


# --- views of the cases -----------------------------------------------------------------------


def test_the_route_shows_the_current_step(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    instance = instance_of(db, request)
    act(db, instance, "recommend", org.branch_pf)
    spec = registry_spec(db, instance)
    steps = route_steps(db, spec=spec, instance=instance, request_id=request.id)
    assert [(s.key, s.status) for s in steps] == [
        ("applied", "done"), ("recommendation", "done"), ("leadership_check", "current"),
        ("president_decision", "pending"), ("appointment", "pending"),
        ("appointed", "pending"), ("filing", "pending")]
    assert steps[-1].blocking is False
    act(db, instance, "reject", org.branch_leader, reason="不符合")
    steps = route_steps(db, spec=spec, instance=instance, request_id=request.id)
    assert [s.status for s in steps] == ["done", "done", "rejected", "not_reached",
                                         "not_reached", "not_reached", "not_reached"]


def registry_spec(db: Session, instance):
    return runtime.get_registry().compiled(db, instance.definition_id).spec


def test_hr_sees_who_applied_in_a_round_and_where_each_case_is(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    mine = apply_pf(db, org.employee_b, "assistant_cm")
    other = apply_pf(db, org.employee, "assistant_cm")
    round_, rows = promotions.round_cases(db, round_id=mine.round_id, viewer=org.branch_hr)
    assert round_.year == 2026 and round_.assessment_year == 2025
    assert [(r.person.id, r.instance.state) for r in rows] == [
        (org.employee_b.id, "recommendation")]
    _, everyone = promotions.round_cases(db, round_id=other.round_id, viewer=org.province_hr)
    assert [r.person.id for r in everyone] == [org.employee.id]
    with pytest.raises(Exception, match="No promotion round"):
        promotions.round_cases(db, round_id=mine.round_id, viewer=org.employee)


def test_the_approvers_queue_lists_the_cases_waiting_on_them(db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    set_grade(db, org.employee_b, "cm")
    request = apply_pf(db, org.employee_b, "senior_cm")
    assert [i.request.id for i in promotions.queue(db, person=org.branch_pf)] == [request.id]
    assert promotions.queue(db, person=org.branch_leader) == []
