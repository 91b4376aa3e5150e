"""Grades: appointments take effect on their date; the grade history says who held what when."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from app import clock
from app.org.models import Person
from app.promotions.models import GradeHistory


def add_grade(session: Session, *, person: Person, scheme: str, title: str,
              staff_grade: int | None, effective_from: date,
              appointment_id: int | None = None) -> GradeHistory:
    """Record a grade from a date on; the person's grade follows at once if the date has come."""
    row = GradeHistory(person_id=person.id, scheme=scheme, title=title, staff_grade=staff_grade,
                       previous_grade=person.grade, effective_from=effective_from,
                       appointment_id=appointment_id)
    session.add(row)
    session.flush()
    apply_due_grades(session, person_id=person.id)
    return row


def apply_due_grades(session: Session, *, on: date | None = None,
                     person_id: int | None = None) -> int:
    """Set people's grade from history rows whose date has come (a sweep: safe to run twice)."""
    on = on or clock.today()
    query = select(GradeHistory).where(GradeHistory.applied_at.is_(None),
                                       GradeHistory.effective_from <= on)
    if person_id is not None:
        query = query.where(GradeHistory.person_id == person_id)
    rows = session.exec(query.order_by(GradeHistory.effective_from, GradeHistory.id)).all()
    now = clock.now()
    for row in rows:
        person = session.get(Person, row.person_id)
        if person is None:
            continue
        latest = grade_on(session, person_id=row.person_id, on=on)
        if latest is not None and latest.id == row.id:
            person.grade = row.title
        row.applied_at = now
    session.flush()
    return len(rows)


def grade_on(session: Session, *, person_id: int, on: date | None = None,
             scheme: str | None = None) -> GradeHistory | None:
    """The grade a person held on a day (in one scheme, when given)."""
    query = select(GradeHistory).where(GradeHistory.person_id == person_id,
                                       GradeHistory.effective_from <= (on or clock.today()))
    if scheme is not None:
        query = query.where(GradeHistory.scheme == scheme)
    return session.exec(query.order_by(col(GradeHistory.effective_from).desc(),
                                       col(GradeHistory.id).desc())).first()


def history(session: Session, *, person_id: int) -> list[GradeHistory]:
    """A person's grades over time, oldest first (future ones included)."""
    return list(session.exec(select(GradeHistory).where(GradeHistory.person_id == person_id)
                             .order_by(GradeHistory.effective_from, GradeHistory.id)))
