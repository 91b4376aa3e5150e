"""Assessments (DOMAIN §3): levels and annual results, CSV import, outcomes, link to improvement."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlmodel import Session, select

from app.assessments import service
from app.assessments.importer import import_annual, import_quarterly
from app.assessments.models import AnnualAssessment, AssessmentPlanLink, QuarterlyAssessment
from app.assessments.schemas import AnnualEntry, OutcomeEntry, QuarterlyEntry
from app.assessments.stars import champions, star_rating
from app.assessments.wording import localise
from app.engine import audit
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.errors import ImportFailed, NotAllowed, ValidationFailed
from app.plans.models import Gap, ImprovementPlan
from tests.factories import bank
from tests.promotion_helpers import annual, flag, quarters


@pytest.fixture
def org(db: Session, registry: Registry):
    b = bank(db)
    registry.sync(db)
    db.commit()
    return b


def csv(text: str) -> bytes:
    return text.strip().encode("utf-8")


def test_hr_records_a_quarter_and_recording_it_again_changes_nothing(db, org) -> None:
    entry = QuarterlyEntry(year=2025, quarter=2, level=3)
    first = service.record_quarter(db, person=org.employee, entry=entry, actor=org.hr_a)
    again = service.record_quarter(db, person=org.employee, entry=entry, actor=org.hr_a)
    changed = service.record_quarter(db, person=org.employee, actor=org.hr_a,
                                     entry=QuarterlyEntry(year=2025, quarter=2, level=2))
    assert (first.status, again.status, changed.status) == ("created", "unchanged", "updated")
    rows = db.exec(select(QuarterlyAssessment)).all()
    assert [(r.year, r.quarter, r.level) for r in rows] == [(2025, 2, 2)]


def test_only_hr_over_the_persons_unit_may_record_results(db, org) -> None:
    entry = QuarterlyEntry(year=2025, quarter=1, level=2)
    for outsider in (org.colleague, org.manager_a, org.hr_b):
        with pytest.raises(NotAllowed):
            service.record_quarter(db, person=org.employee, entry=entry, actor=outsider)


def test_a_quarterly_import_is_idempotent(db, org) -> None:
    text = csv(f"""
employee_no,year,quarter,level
{org.employee.employee_no},2025,1,1
{org.employee.employee_no},2025,2,2
{org.colleague.employee_no},2025,1,4
""")
    first = import_quarterly(db, io.BytesIO(text), actor=org.hr_a)
    second = import_quarterly(db, io.BytesIO(text), actor=org.hr_a)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert len(db.exec(select(QuarterlyAssessment)).all()) == 3


def test_a_bad_row_rejects_the_whole_import_and_names_each_line(db, org) -> None:
    text = csv(f"""
employee_no,year,quarter,level
{org.employee.employee_no},2025,1,1
NOBODY,2025,1,2
{org.employee.employee_no},2025,5,6
{org.employee.employee_no},2025,1,2
{org.employee_b.employee_no},2025,1,2
""")
    with pytest.raises(ImportFailed) as caught:
        import_quarterly(db, io.BytesIO(text), actor=org.hr_a)
    rejected = caught.value.rejected
    assert [line for line, _ in rejected] == [3, 4, 4, 5, 6]
    assert "no one with employee number 'NOBODY'" in rejected[0][1]
    assert "quarter" in rejected[1][1] and "level" in rejected[2][1]
    assert "first on line 2" in rejected[3][1]
    assert f"no one with employee number '{org.employee_b.employee_no}'" in rejected[4][1]
    assert db.exec(select(QuarterlyAssessment)).all() == []


def test_a_header_with_an_unknown_column_is_refused(db, org) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_quarterly(db, io.BytesIO(csv("employee_no,year,quarter,level,grade\n")),
                         actor=org.hr_a)
    assert caught.value.rejected == [(1, "unknown column(s): 'grade'")]


def test_an_annual_import_reads_yes_no_and_metrics_and_rates_stars(db, org) -> None:
    text = csv(f"""
employee_no,year,level,targets_met,liability_loans,maturing_loan_collection,interest_collection,annual_interest_income,avg_daily_deposits,avg_monthly_loans
{org.employee.employee_no},2025,2,是,0,99.5,98,"1,200,000",5500000,9000000
{org.colleague.employee_no},2025,3,no,1,100,99,2000000,7000000,12000000
""")
    report = import_annual(db, io.BytesIO(text), actor=org.hr_a)
    assert (report.created, report.plans_opened) == (2, 1)  # the colleague missed targets
    row = db.exec(select(AnnualAssessment).where(
        AnnualAssessment.person_id == org.employee.id)).one()
    assert (row.level, row.targets_met, row.metrics["annual_interest_income"]) == (
        2, True, 1_200_000)
    assert star_rating(db, person_id=org.employee.id, year=2025).stars == 4
    excluded = star_rating(db, person_id=org.colleague.id, year=2025)
    assert (excluded.stars, excluded.admitted) == (0, False)
    again = import_annual(db, io.BytesIO(text), actor=org.hr_a)
    assert (again.unchanged, again.plans_opened) == (2, 0)


def test_missed_targets_allow_only_appoint_lower_or_dismiss(db, org) -> None:
    annual(db, org.employee, 2025, targets_met=False)
    assert service.allowed_outcomes(db, person_id=org.employee.id, year=2025) == [
        "appoint_lower", "dismiss"]
    for outcome in ("renew", "appoint_higher", "skip_level"):
        with pytest.raises(ValidationFailed) as caught:
            service.record_outcome(db, person=org.employee, actor=org.hr_a,
                                   entry=OutcomeEntry(year=2025, outcome=outcome, reason="x"))
        assert "not met" in caught.value.text()
    row = service.record_outcome(db, person=org.employee, actor=org.hr_a, entry=OutcomeEntry(
        year=2025, outcome="appoint_lower", reason="存款未达序时进度"))
    assert row.outcome == "appoint_lower"


def test_a_missed_target_refusal_reads_in_chinese(db, org) -> None:
    from app.i18n import gettext_for

    annual(db, org.employee, 2025, targets_met=False)
    with pytest.raises(ValidationFailed) as caught:
        service.record_outcome(db, person=org.employee, actor=org.hr_a,
                               entry=OutcomeEntry(year=2025, outcome="renew"))
    text = caught.value.text(gettext_for("zh_CN"))
    assert "低聘、解聘" in text and "续聘" in text


def test_skip_level_needs_the_outstanding_contribution_flag_with_justification(db, org) -> None:
    annual(db, org.employee, 2025, targets_met=True)
    entry = OutcomeEntry(year=2025, outcome="skip_level", reason="突出贡献")
    with pytest.raises(ValidationFailed, match="Outstanding contribution"):
        service.record_outcome(db, person=org.employee, actor=org.hr_a, entry=entry)
    assert "skip_level" not in service.allowed_outcomes(db, person_id=org.employee.id, year=2025)
    flag(db, org.employee, 2025, "outstanding_contribution", by=org.manager_a)
    assert service.record_outcome(db, person=org.employee, actor=org.hr_a,
                                  entry=entry).outcome == "skip_level"


def test_a_dismissal_needs_a_reason(db, org) -> None:
    annual(db, org.employee, 2025, targets_met=False)
    with pytest.raises(ValidationFailed) as caught:
        service.record_outcome(db, person=org.employee, actor=org.hr_a,
                               entry=OutcomeEntry(year=2025, outcome="dismiss"))
    assert set(caught.value.field_errors) == {"reason"}


def test_a_quarters_level_takes_effect_the_next_quarter(db, org) -> None:
    quarters(db, org.employee, 2025, [2, 3, 1, 5])
    assert service.level_in_force(db, person_id=org.employee.id, on=date(2025, 5, 1)) == 2
    assert service.level_in_force(db, person_id=org.employee.id, on=date(2026, 1, 2)) == 5
    assert service.level_in_force(db, person_id=org.employee.id, on=date(2025, 2, 1)) is None


def test_a_quarter_at_level_5_opens_a_draft_plan_with_the_gap_and_tells_the_supervisor(
    db, org
) -> None:
    done = service.record_quarter(db, person=org.employee, actor=org.hr_a,
                                  entry=QuarterlyEntry(year=2025, quarter=3, level=5))
    db.commit()
    assert len(done.plans) == 1
    plan = db.get(ImprovementPlan, done.plans[0])
    assert (plan.employee_id, plan.source) == (org.employee.id, "periodic_assessment")
    assert plan.title == "2025年第3季度考核5级的绩效改进"
    gap = db.exec(select(Gap).where(Gap.plan_id == plan.id)).one()
    assert (gap.requirement, gap.actual) == ("季度管理等级达到4级或以上", "2025年第3季度考核为5级")
    assert (gap.baseline, gap.target, gap.source) == (5, 4, "periodic_assessment")
    instance = db.get(WorkflowInstance, plan.instance_id)
    assert instance.state == "draft"
    supervisor_tasks = db.exec(select(Task).where(Task.instance_id == instance.id,
                                                  Task.assignee_id == org.manager_a.id,
                                                  Task.status == TaskStatus.open)).all()
    assert len(supervisor_tasks) == 1
    events = audit.trail(db, instance.id)
    assert events[-1].trigger == "opened_from_assessment"
    assert events[-1].payload["supervisor_id"] == org.manager_a.id


def test_the_same_result_never_opens_a_second_plan(db, org) -> None:
    entry = QuarterlyEntry(year=2025, quarter=3, level=5)
    service.record_quarter(db, person=org.employee, actor=org.hr_a, entry=entry)
    again = service.record_quarter(db, person=org.employee, actor=org.hr_a,
                                   entry=QuarterlyEntry(year=2025, quarter=3, level=5,
                                                        note="复核"))
    assert again.plans == []
    assert len(db.exec(select(AssessmentPlanLink)).all()) == 1


def test_a_level_4_quarter_opens_no_plan(db, org) -> None:
    done = service.record_quarter(db, person=org.employee, actor=org.hr_a,
                                  entry=QuarterlyEntry(year=2025, quarter=3, level=4))
    assert done.plans == []


def test_missed_annual_targets_open_a_plan_in_the_employees_language(db, org) -> None:
    org.employee.locale = "en"
    done = service.record_annual(db, person=org.employee, actor=org.hr_a,
                                 entry=AnnualEntry(year=2025, targets_met=False))
    plan = db.get(ImprovementPlan, done.plans[0])
    gap = db.exec(select(Gap).where(Gap.plan_id == plan.id)).one()
    assert (plan.title, gap.actual) == ("Improvement after missing the 2025 targets",
                                        "Annual targets of 2025 not met")


def test_champions_are_chosen_per_branch_by_the_configured_metric(db, org) -> None:
    annual(db, org.employee, 2025, metrics={"avg_daily_deposits": 8_000_000})
    annual(db, org.colleague, 2025, metrics={"avg_daily_deposits": 9_000_000},
           liability_loans=1)  # the entry filter applies to champions too
    annual(db, org.manager_a, 2025, metrics={"avg_daily_deposits": 7_000_000})
    annual(db, org.employee_b, 2025, metrics={"avg_daily_deposits": 3_000_000})
    found = {(c.award, c.unit_id): c.person_ids for c in champions(db, year=2025)}
    assert found[("deposits", org.branch_a.id)] == [org.employee.id]
    assert found[("deposits", org.branch_b.id)] == [org.employee_b.id]


def test_the_star_explanation_names_the_deciding_condition(db, org) -> None:
    annual(db, org.employee, 2025, metrics={
        "maturing_loan_collection": 100, "interest_collection": 99,
        "annual_interest_income": 1_500_000, "avg_daily_deposits": 5_999_999,
        "avg_monthly_loans": 10_000_000})
    rating = star_rating(db, person_id=org.employee.id, year=2025)
    assert rating.stars == 4
    assert localise(rating.deciding[0].message(), "en") == (
        "Average daily deposits 5,999,999 CNY misses ≥ 6,000,000 CNY.")
