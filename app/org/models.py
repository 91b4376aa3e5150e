"""Organisation: units in a tree, people, role holders, committees and delegations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models_base import created_at_field, timestamp_field


class UnitKind(StrEnum):
    """Levels of the bank's organisation tree (DOMAIN.md §1)."""

    head_office = "head_office"
    province = "province"
    branch = "branch"
    sub_branch = "sub_branch"
    outlet = "outlet"
    department = "department"


class OrgUnit(SQLModel, table=True):
    """A node of the organisation tree; `path` ("/1/4/9/") makes subtree queries one LIKE."""

    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    kind: str = Field(max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    path: str = Field(default="/", max_length=400, index=True)
    created_at: datetime = created_at_field()


class Person(SQLModel, table=True):
    """An employee, supervisor, HR officer, committee member or administrator."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    employee_no: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    name_en: str = Field(default="", max_length=120)
    email: str = Field(default="", max_length=254)
    locale: str = Field(default="zh_CN", max_length=10)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    post: str = Field(default="", max_length=120)
    grade: str = Field(default="", max_length=40)
    supervisor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    password_hash: str | None = Field(default=None, max_length=200)
    is_admin: bool = False
    active: bool = True
    created_at: datetime = created_at_field()


class RoleAssignment(SQLModel, table=True):
    """A person holds a role (hr, department_reviewer…) or sits on a committee at one unit."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("person_id", "kind", "name", "org_unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=20)  # "role" or "committee"
    name: str = Field(max_length=60)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    created_at: datetime = created_at_field()


class Delegation(SQLModel, table=True):
    """Out of office: the delegate acts on the principal's behalf between two dates."""

    __tablename__ = "delegation"

    id: int | None = Field(default=None, primary_key=True)
    principal_id: int = Field(foreign_key="person.id", index=True)
    delegate_id: int = Field(foreign_key="person.id", index=True)
    starts_on: date
    ends_on: date
    workflow: str | None = Field(default=None, max_length=60)  # None: every workflow
    reason: str = Field(default="", max_length=500)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamp_field()
