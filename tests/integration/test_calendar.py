"""HR keeps the working-day calendar: CSV import all or nothing, the month page, due dates."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.calendar import service as calendar_service
from app.calendar.models import CalendarDay
from app.calendar.service import CalendarImportFailed
from app.engine import calendar
from app.engine.calendar import compute_due, local_date
from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from tests.factories import bank
from tests.reminder_helpers import CHECKPOINT_WORKFLOWS, at

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def workflows_dir() -> Path:
    return CHECKPOINT_WORKFLOWS


def test_csv_import_is_all_or_nothing_names_every_bad_line_and_can_be_repeated(
        db: Session) -> None:
    org = bank(db)
    db.commit()
    csv = ("date,is_working_day,note\n"
           "2027-02-20,1,调休上班\n"
           "2027-02-30,0,\n"
           "2027-02-08,maybe,\n"
           "2027-02-20,0,again\n")
    with pytest.raises(CalendarImportFailed) as failed:
        calendar_service.import_csv(db, io.StringIO(csv), by=org.hr_a, now=clock.now())
    assert [line for line, _ in failed.value.problems] == [3, 4, 5]
    assert "2027-02-20 already appears on line 2." in failed.value.problems[2][1].render()
    db.rollback()
    assert db.exec(select(CalendarDay)).all() == []

    good = "date,is_working_day,note\n2027-02-20,是,调休上班\n2027-02-08,否,春节\n"
    first = calendar_service.import_csv(db, io.StringIO(good), by=org.hr_a, now=clock.now())
    again = calendar_service.import_csv(db, io.StringIO(good), by=org.hr_a, now=clock.now())
    assert (first.created, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
    cal = calendar.load(db)
    assert cal.is_working_day(date(2027, 2, 20)) and not cal.is_working_day(date(2027, 2, 8))


def test_everyone_sees_the_month_and_only_hr_corrects_a_day_on_the_page(db, client, login) -> None:
    org = bank(db)
    db.commit()
    login(client, org.colleague)  # everyone may look; only HR and administrators correct
    look = client.get("/calendar?month=2026-02&lang=en")
    assert look.status_code == 200 and "Correct a day" not in look.text
    assert client.post("/calendar/days", data={
        "csrf_token": CSRF.search(look.text).group(1), "date": "2026-03-03",
        "is_working_day": "false"}).status_code == 403
    client.cookies.clear()

    login(client, org.hr_a)
    page = client.get("/calendar?month=2026-02&lang=en")
    assert page.status_code == 200
    assert re.search(r'data-date="2026-02-14">\s*<strong>14</strong>\s*'
                     r'<span class="visually-hidden">working day', page.text)  # a make-up day
    csrf = CSRF.search(page.text).group(1)
    saved = client.post("/calendar/days", data={
        "csrf_token": csrf, "date": "2026-03-03", "is_working_day": "false", "note": "分行停业"})
    assert saved.status_code == 200  # redirected back to the month
    db.expire_all()
    row = db.exec(select(CalendarDay)).one()
    assert (row.date, row.is_working_day, row.updated_by_id) == (date(2026, 3, 3), False,
                                                                 org.hr_a.id)
    assert "corrected by HR" in client.get("/calendar?month=2026-03").text


def test_hr_uploads_the_official_notice_on_the_page(db, client, login) -> None:
    org = bank(db)
    db.commit()
    login(client, org.hr_a)
    page = client.get("/calendar?month=2027-02&lang=en")
    assert "The official holiday notice for 2027 is not known yet" in page.text
    csrf = CSRF.search(page.text).group(1)
    bad = client.post("/calendar/import", data={"csrf_token": csrf, "month": "2027-02"},
                      files={"file": ("2027.csv", b"date,is_working_day\n2027-02-08,x\n")})
    assert bad.status_code == 422 and "Line 2" in bad.text
    good = client.post("/calendar/import", data={"csrf_token": csrf, "month": "2027-02"},
                       files={"file": ("2027.csv", "\ufeffdate,is_working_day,note\n"
                                       "2027-02-08,0,春节\n2027-02-20,1,调休\n".encode())})
    assert good.status_code == 200
    assert len(db.exec(select(CalendarDay)).all()) == 2
    assert "The official holiday notice for 2027 is not known yet" not in good.text
    assert "The 2027 arrangement loaded by HR applies: 2 days follow HR's corrections" in good.text


def test_a_deadline_can_come_from_a_date_of_the_case(db: Session, registry: Registry) -> None:
    org = bank(db)
    registry.sync(db)
    at(date(2026, 3, 2))
    compiled = registry.compiled_current(db, "checkpoint_check")
    case = WorkflowInstance(definition_id=compiled.definition_id, workflow="checkpoint_check",
                            state="waiting_evidence", subject_id=org.employee.id,
                            org_unit_id=org.sub_a.id)
    assert local_date(compute_due(db, compiled, case)) == date(2026, 3, 4)
    plan = Registry(Path(__file__).resolve().parents[2] / "workflows")
    plan.load()
    plan.sync(db)
    compiled = plan.compiled_current(db, "improvement_plan")
    case = WorkflowInstance(definition_id=compiled.definition_id, workflow="improvement_plan",
                            state="in_progress", subject_id=org.employee.id,
                            org_unit_id=org.sub_a.id, context={"period_end": "2026-06-30"})
    due = compute_due(db, compiled, case)
    assert due.astimezone(clock.zone()).isoformat() == "2026-06-30T23:59:59+08:00"
