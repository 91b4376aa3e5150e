"""Builders for test data: a small bank with two branches and people in every role."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from app.org import service as org
from app.org.models import OrgUnit, Person, UnitKind

_numbers = itertools.count(1000)
WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


def bare_plan_workflows(directory: Path) -> Path:
    """The improvement-plan workflow without its content guards, for engine-only tests."""
    shutil.copy(WORKFLOWS / "organisation.yaml", directory)
    text = (WORKFLOWS / "improvement_plan.yaml").read_text(encoding="utf-8")
    bare = "\n".join(line for line in text.splitlines() if not line.strip().startswith("guards:"))
    (directory / "improvement_plan.yaml").write_text(bare, encoding="utf-8")
    return directory


def person(
    session: Session,
    unit: OrgUnit,
    *,
    name: str = "",
    supervisor: Person | None = None,
    email: str = "",
    locale: str = "zh_CN",
    post: str = "客户经理",
    is_admin: bool = False,
) -> Person:
    """A person in a unit, with a fresh employee number."""
    number = f"E{next(_numbers)}"
    row = Person(
        employee_no=number,
        name=name or f"员工{number}",
        name_en=name or f"Employee {number}",
        email=email or f"{number.lower()}@bank.test",
        locale=locale,
        org_unit_id=unit.id,
        post=post,
        supervisor_id=supervisor.id if supervisor else None,
        is_admin=is_admin,
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Bank:
    """The small bank most tests use."""

    head_office: OrgUnit
    branch_a: OrgUnit
    sub_a: OrgUnit
    branch_b: OrgUnit
    sub_b: OrgUnit
    president_a: Person
    manager_a: Person  # sub-branch head, supervisor of employee
    employee: Person
    colleague: Person  # same sub-branch, same supervisor, not involved
    hr_a: Person
    hr_b: Person
    employee_b: Person
    manager_b: Person
    leader_a: Person  # leadership group member at branch A
    admin: Person


def bank(session: Session) -> Bank:
    """Head office → branches A and B → one sub-branch each, with people in every role."""
    ho = org.create_unit(session, code=f"HO{next(_numbers)}", name="总行", name_en="Head office",
                         kind=UnitKind.head_office)
    branch_a = org.create_unit(session, code=f"BA{next(_numbers)}", name="甲分行",
                               name_en="Branch A", kind=UnitKind.branch, parent=ho)
    sub_a = org.create_unit(session, code=f"SA{next(_numbers)}", name="甲一支行",
                            name_en="Sub-branch A1", kind=UnitKind.sub_branch, parent=branch_a)
    branch_b = org.create_unit(session, code=f"BB{next(_numbers)}", name="乙分行",
                               name_en="Branch B", kind=UnitKind.branch, parent=ho)
    sub_b = org.create_unit(session, code=f"SB{next(_numbers)}", name="乙一支行",
                            name_en="Sub-branch B1", kind=UnitKind.sub_branch, parent=branch_b)
    president_a = person(session, branch_a, name="甲行长", post="行长")
    manager_a = person(session, sub_a, name="甲支行长", supervisor=president_a, post="支行长")
    employee = person(session, sub_a, name="张三", supervisor=manager_a)
    colleague = person(session, sub_a, name="李四", supervisor=manager_a)
    hr_a = person(session, branch_a, name="甲人事", post="人力资源部")
    hr_b = person(session, branch_b, name="乙人事", post="人力资源部")
    manager_b = person(session, sub_b, name="乙支行长", post="支行长")
    employee_b = person(session, sub_b, name="王五", supervisor=manager_b)
    leader_a = person(session, branch_a, name="甲组长", post="副行长")
    admin = person(session, ho, name="管理员", post="系统管理员", is_admin=True)
    org.assign(session, person=hr_a, kind="role", name="hr", unit=branch_a)
    org.assign(session, person=hr_b, kind="role", name="hr", unit=branch_b)
    org.assign(session, person=leader_a, kind="committee", name="leadership_group", unit=branch_a)
    session.flush()
    return Bank(ho, branch_a, sub_a, branch_b, sub_b, president_a, manager_a, employee,
                colleague, hr_a, hr_b, employee_b, manager_b, leader_a, admin)
