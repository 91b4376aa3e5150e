"""HR adds a fourth scheme as YAML files: eligibility and a request run through it, no code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import audit, runtime
from app.engine.registry import Registry
from app.errors import NotAllowed
from app.promotions import grades
from app.promotions import service as promotions
from app.promotions.eligibility import eligibility
from app.promotions.models import Appointment, FilingNotice
from tests.factories import bank
from tests.promotion_helpers import act, annual, copy_workflows, instance_of, quarters

RURAL_SCHEME = """\
# A rural commercial bank's relationship managers (invented for this test).
scheme: rural_rm_2024
label: {en: Rural bank relationship managers (2024), zh: 农商行客户经理（2024）}
titles:
  - {name: rm, label: {en: Relationship manager, zh: 客户经理}, tier: standard, aliases: [协办]}
  - {name: lead_rm, label: {en: Lead relationship manager, zh: 主办客户经理}, tier: standard,
     aliases: [主办]}
  - {name: principal_rm, label: {en: Principal relationship manager, zh: 首席客户经理}, tier: top}
skip_level:
  rule: R.S
  label: {en: One title at a time, zh: 逐级晋升}
  source: 本行客户经理管理办法第十条
  allowed: false
  first_appointment: [rm, lead_rm]
staffing:
  rule: R.6
  label: {en: Relationship managers per branch, zh: 客户经理编制}
  second_level_kinds: [sub_branch, outlet]
  per_unit: 3
  volume_divisor: 300000000
  rounding: ceil
  uplift:
    add: 2
    at_least: 1
    conditions:
      - {figure: sme_credit_client_growth, label: {en: SME clients +5, zh: 小微客户新增5户},
         gte: 5}
  sme_credit_line: {gt: 1000000, lt: 10000000}
  first_year: formula
window: {opens: "06-01", closes: "06-15", assessment_year: current}
facts:
  certified:
    type: bool
    label: {en: Holds the credit certificate, zh: 持有信贷上岗证}
qualifications:
  - rule: R.Q1
    label: {en: Holds the credit certificate, zh: 持有信贷上岗证}
    strength: generally
    when: {fact: {name: certified, equals: true}}
settings:
  deposit_reading:
    label: {en: Which deposits count, zh: 存款口径}
    default: daily_average
    choices:
      daily_average:
        label: {en: Average daily deposits of 2 million, zh: 日均存款200万元}
        when: {annual: {field: avg_daily_deposits, gte: 2000000}}
      none:
        label: {en: Deposits do not count, zh: 不考核存款}
        when: {all_of: []}
blocks:
  - rule: R.B1
    label: {en: A liability loan blocks promotion, zh: 有责任贷款不得晋升}
    when: {annual: {field: liability_loans, gte: 1}}
eligibility:
  lead_rm:
    - rule: R.1
      label: {en: Two quarters at level 2 or better, zh: 两个季度2级以上}
      when: {quarters: {level_at_most: 2, at_least: 2}}
    - rule: R.2
      label: {en: Deposits, zh: 存款}
      when: {setting: deposit_reading}
  principal_rm:
    - rule: R.3
      label: {en: Every quarter at level 1, zh: 每季度均为1级}
      when: {quarters: {level_at_most: 1, at_least: 4}}
routes:
  standard:
    workflow: promotion_rural
  top:
    workflow: promotion_rural
    filing: ["role:head_office_filing@head_office"]
"""

RURAL_WORKFLOW = """\
workflow: promotion_rural
label: {en: Rural bank promotion, zh: 农商行客户经理晋升}
initial: applied
fields:
  reason: {type: textarea, label: {en: Reason, zh: 理由}, required: true}
  issue_date: {type: date, label: {en: Issue date, zh: 发文日期}, required: true}
states:
  applied: {label: {en: Applied, zh: 已申请}}
  review: {label: {en: Credit department reviews, zh: 信贷部门审查}}
  appointment: {label: {en: HR appoints, zh: 人力资源部聘任}}
  appointed: {label: {en: Appointed, zh: 已聘任}, terminal: true}
  rejected: {label: {en: Rejected, zh: 已驳回}, terminal: true}
transitions:
  - trigger: submit
    label: {en: Submit, zh: 提交}
    source: applied
    dest: review
    actors: [initiator]
    guards: [promotion_window_open, qualification_screened, skip_level_justified]
  - trigger: approve
    label: {en: Approve, zh: 同意}
    source: review
    dest: appointment
    actors: ["role:department_reviewer@subject.branch"]
  - trigger: reject
    label: {en: Reject, zh: 驳回}
    source: [review, appointment]
    dest: rejected
    actors: ["role:department_reviewer@subject.branch", "role:hr@subject.branch"]
    form: [reason]
    optional: true
    style: danger
  - trigger: appoint
    label: {en: Appoint, zh: 聘任}
    source: appointment
    dest: appointed
    actors: ["role:hr@subject.branch"]
    form: [issue_date]
"""


@pytest.fixture
def rural(tmp_path: Path) -> Iterator[Registry]:
    """A copy of the workflows with the new scheme and its workflow added as files."""
    root = copy_workflows(tmp_path / "wf")
    (root / "promotion" / "scheme_rural_rm_2024.yaml").write_text(RURAL_SCHEME, "utf-8")
    (root / "promotion" / "rural.yaml").write_text(RURAL_WORKFLOW, "utf-8")
    previous = runtime.get_registry()
    registry = Registry(root)
    registry.load()
    runtime.set_registry(registry)
    yield registry
    runtime.set_registry(previous)


def test_a_scheme_added_as_yaml_runs_eligibility_and_a_request_without_code(
    db: Session, rural: Registry
) -> None:
    from app.org import service as org

    b = bank(db)
    reviewer = b.colleague
    org.assign(db, person=reviewer, kind="role", name="department_reviewer", unit=b.branch_a)
    rural.sync(db)
    quarters(db, b.employee, 2026, [2, 1, 3, None])
    annual(db, b.employee, 2026, metrics={"avg_daily_deposits": 2_500_000})
    db.commit()

    found = eligibility(db, person=b.employee, scheme="rural_rm_2024", year=2026,
                        registry=rural)
    assert [v.title.name for v in found.eligible] == ["rm", "lead_rm"]
    assert [c.rule for c in found.verdict("principal_rm").why_not] == ["R.3", "R.S"]

    clock.freeze(datetime(2026, 5, 31, 9))
    with pytest.raises(NotAllowed, match="open on 2026-06-01 and close on 2026-06-15"):
        promotions.apply(db, scheme="rural_rm_2024", person=b.employee, applicant=b.manager_a,
                         target_title="rm", facts={"certified": True}, registry=rural)
    db.rollback()
    clock.freeze(datetime(2026, 6, 3, 9))
    request = promotions.apply(db, scheme="rural_rm_2024", person=b.employee,
                               applicant=b.manager_a, target_title="rm",
                               facts={"certified": "no"},
                               justifications={"exception_r_q1": "证书考试已报名"},
                               registry=rural)
    db.commit()
    instance = instance_of(db, request)
    assert instance.workflow == "promotion_rural" and instance.state == "review"
    act(db, instance, "approve", reviewer)
    act(db, instance, "appoint", b.hr_a, issue_date="2026-06-03")
    assert [e.to_state for e in audit.trail(db, instance.id)] == [
        "applied", "review", "appointment", "appointed"]
    appointment = db.exec(select(Appointment)).one()
    assert (appointment.scheme, appointment.title, appointment.effective_from) == (
        "rural_rm_2024", "rm", date(2026, 6, 3))
    assert grades.title_on(db, person_id=b.employee.id, scheme="rural_rm_2024") == "rm"
    assert db.exec(select(FilingNotice)).all() == []  # only the top tier files


def test_a_block_of_the_new_scheme_cites_its_own_rule(db: Session, rural: Registry) -> None:
    b = bank(db)
    rural.sync(db)
    quarters(db, b.employee, 2026, [1, 1, 1, 1])
    annual(db, b.employee, 2026, liability_loans=1,
           metrics={"avg_daily_deposits": 3_000_000})
    found = eligibility(db, person=b.employee, scheme="rural_rm_2024", year=2026,
                        registry=rural)
    assert found.eligible == []
    assert all("R.B1" in [c.rule for c in v.why_not] for v in found.titles)


def test_new_titles_skip_level_and_a_staffing_formula_run_from_yaml_alone(
    db: Session, rural: Registry
) -> None:
    """A fourth bank's titles (and aliases), its skip-level rule and its staffing parameters."""
    from app.errors import ImportFailed
    from app.org.importer import CsvTable, apply_people
    from app.promotions.staffing_service import branch_quota
    from app.promotions.titles import default_title_book

    b = bank(db)
    rural.sync(db)
    people = CsvTable.from_records([{"employee_no": b.employee.employee_no, "name": "张三",
                                     "org_unit_code": b.sub_a.code,
                                     "titles": "rural_rm_2024:协办"}])
    apply_people(db, people, titles=default_title_book(rural))
    db.commit()
    assert grades.title_on(db, person_id=b.employee.id, scheme="rural_rm_2024") == "rm"
    with pytest.raises(ImportFailed) as caught:
        apply_people(db, CsvTable.from_records([{
            "employee_no": b.employee.employee_no, "name": "张三",
            "org_unit_code": b.sub_a.code, "titles": "农商行客户经理（2024）:行长"}]),
            titles=default_title_book(rural))
    assert "'行长' is not a title of rural_rm_2024" in caught.value.rejected[0][1]
    db.rollback()

    quarters(db, b.employee, 2026, [1, 1, 1, 1])
    found = eligibility(db, person=b.employee, scheme="rural_rm_2024", year=2026,
                        registry=rural)
    principal = found.verdict("principal_rm")
    assert (principal.eligible, principal.skip_level) == (False, True)
    assert [c.rule for c in principal.why_not] == ["R.S"]

    scheme = rural_scheme(rural)
    quota = branch_quota(db, scheme, b.branch_a, 2026, {
        "asset_liability_size": 700_000_000, "sme_credit_lines_end": [2e6, 5e6, 9e6, 9.9e6,
                                                                      10e6, 1e6]})
    assert (quota.quota.base, quota.quota.volume) == (3, 3)  # 1 unit × 3; 7亿/3亿 rounded up
    assert quota.quota.uplift == 0  # 4 SMEs (both ends exclusive): fewer than 5
    quota = branch_quota(db, scheme, b.branch_a, 2026, {
        "asset_liability_size": 700_000_000, "sme_credit_lines_end": [2e6] * 5})
    assert (quota.quota.uplift, quota.quota.headcount) == (2, 5)


def rural_scheme(registry: Registry):  # noqa: ANN201
    from app.promotions.schemes import get_scheme

    return get_scheme("rural_rm_2024", registry)
