"""Titles per scheme with their history: appointments, imports and exits take effect on a date.

A person holds at most one title in each scheme at a time; the rows of the grade history are
that title over time (title "" from the day they left the scheme's titles). The person's
`grade` column only keeps the bank's name of their latest title for display.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app import clock
from app.org.models import Person
from app.promotions.models import GradeHistory


def add_grade(session: Session, *, person: Person, scheme: str, title: str,
              staff_grade: int | None, effective_from: date,
              appointment_id: int | None = None, exit_id: int | None = None,
              source: str = "appointment") -> GradeHistory:
    """Record a title (or "" for none) in a scheme from a date on; applied at once if due."""
    before = grade_on(session, person_id=person.id, on=effective_from, scheme=scheme)
    row = GradeHistory(person_id=person.id, scheme=scheme, title=title, staff_grade=staff_grade,
                       previous_grade=before.title if before else "",
                       effective_from=effective_from, appointment_id=appointment_id,
                       exit_id=exit_id, source=source)
    session.add(row)
    session.flush()
    apply_due_grades(session, person_id=person.id)
    return row


def bank_name(scheme: str, title: str) -> str:
    """The bank's (Chinese) name of a title, for the person's display grade."""
    from app.promotions.schemes import schemes_of

    found = schemes_of().get(scheme)
    held = found.title(title) if found else None
    return held.label["zh"] if held else title


def apply_due_grades(session: Session, *, on: date | None = None,
                     person_id: int | None = None) -> int:
    """Set people's display grade from history rows whose date has come (safe to run twice)."""
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
        # an import keeps the grade text the bank's file gave; appointments and exits set it
        if latest is not None and latest.id == row.id and row.source != "import":
            person.grade = bank_name(row.scheme, row.title) if row.title else ""
        row.applied_at = now
    session.flush()
    return len(rows)


def grade_on(session: Session, *, person_id: int | None, on: date | None = None,
             scheme: str | None = None) -> GradeHistory | None:
    """The history row in force on a day (in one scheme, when given)."""
    query = select(GradeHistory).where(GradeHistory.person_id == person_id,
                                       GradeHistory.effective_from <= (on or clock.today()))
    if scheme is not None:
        query = query.where(GradeHistory.scheme == scheme)
    return session.exec(query.order_by(col(GradeHistory.effective_from).desc(),
                                       col(GradeHistory.id).desc())).first()


def title_on(session: Session, *, person_id: int | None, scheme: str,
             on: date | None = None) -> str | None:
    """The title a person holds in a scheme on a day (None for none)."""
    row = grade_on(session, person_id=person_id, on=on, scheme=scheme)
    return (row.title or None) if row else None


def titles_held(session: Session, *, person_id: int | None, on: date | None = None
                ) -> dict[str, str]:
    """Every scheme's title the person holds on a day (schemes where they hold none left out)."""
    on = on or clock.today()
    held: dict[str, str] = {}
    for row in session.exec(select(GradeHistory).where(
            GradeHistory.person_id == person_id, GradeHistory.effective_from <= on)
            .order_by(GradeHistory.effective_from, GradeHistory.id)):
        held[row.scheme] = row.title
    return {scheme: title for scheme, title in held.items() if title}


def hold_title(session: Session, *, person: Person, scheme: str, title: str,
               staff_grade: int | None = None, on: date | None = None,
               source: str = "import") -> bool:
    """Make the person hold a title in a scheme from a day on, unless they already do."""
    on = on or clock.today()
    if title_on(session, person_id=person.id, scheme=scheme, on=on) == title:
        return False
    add_grade(session, person=person, scheme=scheme, title=title, staff_grade=staff_grade,
              effective_from=on, source=source)
    return True


def history(session: Session, *, person_id: int, scheme: str | None = None
            ) -> list[GradeHistory]:
    """A person's titles over time, oldest first (future ones included)."""
    query = select(GradeHistory).where(GradeHistory.person_id == person_id)
    if scheme is not None:
        query = query.where(GradeHistory.scheme == scheme)
    return list(session.exec(query.order_by(GradeHistory.effective_from, GradeHistory.id)))


def history_data(rows: list[GradeHistory]) -> list[dict[str, Any]]:
    """History rows as plain data (for exports and the API)."""
    return [{"scheme": r.scheme, "title": r.title or None, "previous": r.previous_grade or None,
             "effective_from": r.effective_from, "source": r.source} for r in rows]
