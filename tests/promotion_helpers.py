"""Builders for assessment and promotion tests: a bank with a province, and recorded results."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from app.assessments import service as assessments
from app.assessments.schemas import AnnualEntry, FlagEntry, QuarterlyEntry
from app.engine import runtime
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.org import service as org
from app.org.models import OrgUnit, Person, UnitKind
from tests.factories import person

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
_codes = itertools.count(1)


@dataclass
class ProvincialBank:
    """Head office → province → city branch (subordinate) → sub-branch; and a first-level branch.

    Every role and committee the promotion routes name is held by someone.
    """

    head_office: OrgUnit
    province: OrgUnit
    city_branch: OrgUnit
    city_sub: OrgUnit
    branch: OrgUnit
    branch_sub: OrgUnit
    employee: Person  # in the city sub-branch (a subordinate branch)
    manager: Person  # the employee's supervisor (sub-branch head)
    colleague: Person
    employee_b: Person  # in the first-level branch's sub-branch
    manager_b: Person
    filer: Person  # head-office filing
    corporate_reviewer: Person  # province corporate department
    province_president: Person  # province president's office
    vice_president: Person  # province vice-president in charge
    province_leader: Person  # province leadership group (the supervising branch)
    province_hr: Person
    city_pf: Person  # city branch private-finance department
    city_leader: Person
    city_president: Person
    city_hr: Person
    city_cm_group: Person
    branch_pf: Person
    branch_leader: Person
    branch_president: Person
    branch_hr: Person
    branch_cm_group: Person


def _unit(db: Session, name: str, kind: UnitKind, parent: OrgUnit | None) -> OrgUnit:
    return org.create_unit(db, code=f"P{next(_codes)}{kind.value[:2]}", name=name,
                           name_en=name, kind=kind, parent=parent)


def _seat(db: Session, unit: OrgUnit, name: str, kind: str, seat: str) -> Person:
    holder = person(db, unit, name=name, post=seat)
    org.assign(db, person=holder, kind=kind, name=seat, unit=unit)
    return holder


def provincial_bank(db: Session) -> ProvincialBank:
    """The bank promotion tests use."""
    ho = _unit(db, "总行", UnitKind.head_office, None)
    province = _unit(db, "省分行", UnitKind.province, ho)
    city = _unit(db, "市分行", UnitKind.branch, province)
    city_sub = _unit(db, "市一支行", UnitKind.sub_branch, city)
    branch = _unit(db, "直属分行", UnitKind.branch, ho)
    branch_sub = _unit(db, "直属一支行", UnitKind.sub_branch, branch)
    city_president = _seat(db, city, "市行长", "committee", "president_office")
    manager = person(db, city_sub, name="市支行长", supervisor=city_president, post="支行长")
    employee = person(db, city_sub, name="张三", supervisor=manager)
    colleague = person(db, city_sub, name="李四", supervisor=manager)
    branch_president = _seat(db, branch, "直属行长", "committee", "president_office")
    manager_b = person(db, branch_sub, name="直属支行长", supervisor=branch_president)
    employee_b = person(db, branch_sub, name="王五", supervisor=manager_b)
    bank = ProvincialBank(
        head_office=ho, province=province, city_branch=city, city_sub=city_sub, branch=branch,
        branch_sub=branch_sub, employee=employee, manager=manager, colleague=colleague,
        employee_b=employee_b, manager_b=manager_b,
        filer=_seat(db, ho, "总行私金部", "role", "head_office_filing"),
        corporate_reviewer=_seat(db, province, "省公司部", "role", "corporate_department"),
        province_president=_seat(db, province, "省行长", "committee", "president_office"),
        vice_president=_seat(db, province, "主管副行长", "role", "vice_president_in_charge"),
        province_leader=_seat(db, province, "省领导小组", "committee", "leadership_group"),
        province_hr=_seat(db, province, "省人事", "role", "hr"),
        city_pf=_seat(db, city, "市私金部", "role", "private_finance_department"),
        city_leader=_seat(db, city, "市领导小组", "committee", "leadership_group"),
        city_president=city_president,
        city_hr=_seat(db, city, "市人事", "role", "hr"),
        city_cm_group=_seat(db, city, "市客户经理小组", "committee", "cm_management_group"),
        branch_pf=_seat(db, branch, "直属私金部", "role", "private_finance_department"),
        branch_leader=_seat(db, branch, "直属领导小组", "committee", "leadership_group"),
        branch_president=branch_president,
        branch_hr=_seat(db, branch, "直属人事", "role", "hr"),
        branch_cm_group=_seat(db, branch, "直属客户经理小组", "committee", "cm_management_group"),
    )
    db.flush()
    return bank


def quarters(db: Session, who: Person, year: int, levels: list[int | None]) -> None:
    """Record quarterly levels (None leaves a quarter unrecorded)."""
    for quarter, level in enumerate(levels, 1):
        if level is not None:
            assessments.record_quarter(db, person=who, actor=None, entry=QuarterlyEntry(
                year=year, quarter=quarter, level=level))


def annual(db: Session, who: Person, year: int, **values: Any) -> None:
    """Record an annual result."""
    assessments.record_annual(db, person=who, actor=None,
                              entry=AnnualEntry(year=year, **values))


def flag(db: Session, who: Person, year: int, name: str, by: Person,
         justification: str = "全年新增对公存款5亿元") -> None:
    """Set a reviewer flag with its justification."""
    assessments.set_flag(db, person=who, actor=by, entry=FlagEntry(
        year=year, name=name, justification=justification))


def open_tasks(db: Session, instance: WorkflowInstance) -> list[Task]:
    """The instance's open tasks."""
    return list(db.exec(select(Task).where(Task.instance_id == instance.id,
                                           Task.status == TaskStatus.open)))


def all_task_states(db: Session, instance: WorkflowInstance) -> set[str]:
    """Every state a task was ever opened for."""
    return {t.state for t in db.exec(select(Task).where(Task.instance_id == instance.id))}


def instance_of(db: Session, request: Any) -> WorkflowInstance:
    """The workflow instance of a promotion request."""
    instance = db.get(WorkflowInstance, request.instance_id)
    assert instance is not None
    return instance


def act(db: Session, instance: WorkflowInstance, trigger: str, actor: Person,
        **payload: Any) -> str:
    """Fire an action and commit; the new state."""
    result = runtime.fire(db, instance, trigger, actor, payload)
    db.commit()
    return result.to_state


def copy_workflows(target: Path) -> Path:
    """A copy of the project's workflows directory (to add or change rule files in a test)."""
    shutil.copytree(WORKFLOWS, target)
    return target


GOOD_FACTS = {"good_conduct": True, "healthy": True, "education": "bachelor",
              "years_in_banking": 5, "years_in_private_finance": 2,
              "professional_title": "economist"}
