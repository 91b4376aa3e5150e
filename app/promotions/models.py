"""Promotion tables: rounds, requests, appointments, title history, filing notices, exits and
the staffing figures of branches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models_base import created_at_field, json_field, timestamp_field


class PromotionRound(SQLModel, table=True):
    """One scheme's yearly application round: its window and the assessment year it weighs."""

    __tablename__ = "promotion_round"
    __table_args__ = (UniqueConstraint("scheme", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme: str = Field(max_length=60, index=True)
    year: int  # the calendar year of the window
    assessment_year: int  # whose results count (often the year before)
    opens_on: date
    closes_on: date
    created_at: datetime = created_at_field()


class PromotionRequest(SQLModel, table=True):
    """A person's application (or nomination) for a title in one round; one per round."""

    __tablename__ = "promotion_request"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="promotion_round.id", index=True)
    scheme: str = Field(max_length=60)
    person_id: int = Field(foreign_key="person.id", index=True)
    applicant_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=20)  # self_application | nomination
    current_title: str | None = Field(default=None, max_length=60)
    target_title: str = Field(max_length=60)
    tier: str = Field(max_length=60)
    workflow: str = Field(max_length=60)
    instance_id: int | None = Field(default=None, foreign_key="workflow_instance.id", index=True)
    skip_level: bool = False
    outstanding_contribution: bool = False
    justification: str = Field(default="", sa_type=Text)  # why skip-level / outstanding
    facts: dict[str, Any] = json_field()  # qualification facts the applicant declared
    screening: dict[str, Any] = json_field()  # each qualification's result, exceptions
    eligibility: dict[str, Any] = json_field()  # the eligibility verdict when applying
    created_at: datetime = created_at_field()


class Appointment(SQLModel, table=True):
    """An appointment document (聘任): the title it gives and the date it takes effect."""

    __tablename__ = "appointment"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="promotion_request.id",
                                   unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    scheme: str = Field(max_length=60)
    title: str = Field(max_length=60)
    staff_grade: int | None = None
    outcome: str = Field(default="appoint_higher", max_length=20)  # or skip_level
    issued_on: date
    effective_from: date
    document_no: str = Field(default="", max_length=80)
    issued_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = created_at_field()


class GradeHistory(SQLModel, table=True):
    """A person's title in one scheme from a date on (title "" once they left the titles).

    The rows of a person and scheme are their title history; the person's `grade` (the bank's
    name of their latest title, for display) follows once a row's date arrives.
    """

    __tablename__ = "grade_history"
    __table_args__ = (Index("ix_grade_history_due", "applied_at", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    scheme: str = Field(max_length=60)
    title: str = Field(max_length=60)
    staff_grade: int | None = None
    previous_grade: str = Field(default="", max_length=40)
    effective_from: date
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    exit_id: int | None = Field(default=None, foreign_key="exit_request.id")
    source: str = Field(default="appointment", max_length=20)  # appointment | import | exit
    applied_at: datetime | None = timestamp_field()  # when person.grade was set
    created_at: datetime = created_at_field()


class FilingNotice(SQLModel, table=True):
    """A filing notice (报备) to head office: for information, it never blocks the case."""

    __tablename__ = "filing_notice"
    __table_args__ = (Index("ix_filing_notice_group", "group_kind", "group_name", "org_unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="promotion_request.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    actor_expr: str = Field(max_length=200)
    assignee_id: int | None = Field(default=None, foreign_key="person.id")
    group_kind: str | None = Field(default=None, max_length=20)
    group_name: str | None = Field(default=None, max_length=60)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    summary: str = Field(default="", sa_type=Text)
    sent_at: datetime = created_at_field()
    acknowledged_at: datetime | None = timestamp_field()
    acknowledged_by_id: int | None = Field(default=None, foreign_key="person.id")


class ExitRequest(SQLModel, table=True):
    """A proposal that a person leave a scheme's titles (e.g. the customer-manager team)."""

    __tablename__ = "exit_request"

    id: int | None = Field(default=None, primary_key=True)
    scheme: str = Field(max_length=60)
    route: str = Field(max_length=60)  # the scheme's exit it takes (exits.<route>)
    person_id: int = Field(foreign_key="person.id", index=True)
    applicant_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=20)  # self_application | nomination
    current_title: str = Field(max_length=60)
    workflow: str = Field(max_length=60)
    reason: str = Field(max_length=60)  # a key of the exit's reasons
    explanation: str = Field(default="", sa_type=Text)
    proposed_date: date
    left_on: date | None = None  # set when approved
    instance_id: int | None = Field(default=None, foreign_key="workflow_instance.id", index=True)
    created_at: datetime = created_at_field()


class StaffingFigures(SQLModel, table=True):
    """A branch's figures for one year's staffing quota (DOMAIN §6); amounts in CNY."""

    __tablename__ = "staffing_figures"
    __table_args__ = (UniqueConstraint("scheme", "org_unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme: str = Field(max_length=60)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    year: int  # the year the quota is for (its figures are those of the year before)
    second_level_units: int | None = None  # None: counted from the organisation tree
    asset_liability_size: float | None = None
    corporate_deposit_growth: float | None = None
    corporate_risk_asset_growth: float | None = None
    sme_credit_lines_start: list[float] = Field(default_factory=list, sa_type=JSON, nullable=False)
    sme_credit_lines_end: list[float] = Field(default_factory=list, sa_type=JSON, nullable=False)
    first_year: bool = False
    updated_by_id: int | None = Field(default=None, foreign_key="person.id")
    updated_at: datetime = created_at_field()
