"""HR's corrections of the working-day calendar, one row per corrected date."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from app.models_base import created_at_field


class CalendarDay(SQLModel, table=True):
    """A date HR declared a working day or a day off, overriding the official calendar."""

    __tablename__ = "calendar_day"

    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(unique=True, index=True)
    is_working_day: bool
    note: str = Field(default="", max_length=200)
    updated_by_id: int | None = Field(default=None, foreign_key="person.id")
    updated_at: dt.datetime = created_at_field()
