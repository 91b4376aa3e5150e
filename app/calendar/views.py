"""HR's calendar page: a month of working days and days off, corrections, CSV import."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app import clock
from app.calendar import service
from app.calendar.service import CalendarImportFailed
from app.engine.calendar import Source
from app.errors import ImportFailed, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.web.deps import CurrentUser, FormDep, GettextDep, LocaleDep, SessionDep
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)


def parse_month(text: str | None) -> tuple[int, int]:
    """A YYYY-MM month (this month when missing or malformed)."""
    try:
        year, month = (int(part) for part in (text or "").split("-", 1))
        date(year, month, 1)
        return year, month
    except ValueError:
        today = clock.today()
        return today.year, today.month


def _shift(year: int, month: int, by: int) -> str:
    index = year * 12 + (month - 1) + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def page(request: Request, db: Session, user: Person, locale: str, month_text: str | None,
         *, problems: list[tuple[int, str]] | None = None, message: str = "",
         status_code: int = 200) -> Response:
    """The month page: everyone may look; HR and administrators may correct."""
    year, month = parse_month(month_text)
    standing, corrected = service.year_standing(db, year)
    ctx: dict[str, Any] = {
        "weeks": service.month(db, year, month, locale),
        "month": f"{year:04d}-{month:02d}",
        "previous": _shift(year, month, -1),
        "next": _shift(year, month, 1),
        "official": standing == Source.official,
        "standing": standing,
        "corrected": corrected,
        "year": year,
        "problems": problems or [],
        "message": message,
        "can_manage": service.can_manage(db, user),
    }
    return render(request, "calendar/month.html", ctx, status_code=status_code)


@router.get("/calendar")
def show(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
         month: str | None = None) -> Response:
    """A month of the working-day calendar."""
    return page(request, db, user, locale, month)


@router.post("/calendar/days")
def correct(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
            gettext: GettextDep, form: FormDep) -> Response:
    """Declare one date a working day or a day off."""
    day_text = form.get("date", "")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return page(request, db, user, locale, form.get("month"),
                    message=gettext("'{value}' is not a date (YYYY-MM-DD).").format(
                        value=day_text), status_code=422)
    working = form.get("is_working_day", "") in ("true", "1", "on", "yes")
    try:
        service.correct_day(db, by=user, day=day, is_working_day=working,
                            note=form.get("note", ""), now=clock.now())
    except ValidationFailed as exc:
        db.rollback()
        return page(request, db, user, locale, day.strftime("%Y-%m"),
                    message=exc.text(gettext), status_code=exc.status_code)
    flash(request, Message("{date} is corrected.", {"date": day.isoformat()}))
    return RedirectResponse(f"/calendar?month={day.strftime('%Y-%m')}", status_code=303)


@router.post("/calendar/days/{day}/clear")
def clear(day: date, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Remove HR's correction of a date: the official calendar applies again."""
    service.clear_day(db, by=user, day=day)
    flash(request, Message("{date} follows the official calendar again.",
                           {"date": day.isoformat()}))
    return RedirectResponse(f"/calendar?month={day.strftime('%Y-%m')}", status_code=303)


@router.post("/calendar/import")
async def import_file(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
                      gettext: GettextDep) -> Response:
    """Import a CSV of corrections (date,is_working_day,note): all rows or none."""
    form = await request.form()
    upload = form.get("file")
    month_text = str(form.get("month") or "")
    if not isinstance(upload, UploadFile):
        return page(request, db, user, locale, month_text,
                    message=gettext("Choose a CSV file to import."), status_code=422)
    data = await upload.read()
    try:
        report = service.import_csv(db, io.BytesIO(data), by=user, now=clock.now())
    except CalendarImportFailed as exc:
        db.rollback()
        problems = [(line, msg.render(gettext)) for line, msg in exc.problems]
        return page(request, db, user, locale, month_text, problems=problems,
                    message=exc.text(gettext), status_code=422)
    except ImportFailed as exc:
        db.rollback()
        return page(request, db, user, locale, month_text, problems=exc.rejected,
                    message=exc.text(gettext), status_code=422)
    flash(request, Message("Calendar imported: {created} new, {updated} changed, {unchanged} "
                           "unchanged.", {"created": report.created, "updated": report.updated,
                                          "unchanged": report.unchanged}))
    return RedirectResponse(f"/calendar?month={month_text}" if month_text else "/calendar",
                            status_code=303)
