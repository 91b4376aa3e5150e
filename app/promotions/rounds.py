"""Application rounds: once a year per scheme, inside the window the scheme file gives.

A round's row, once it exists, is the truth about its dates: HR may set one year's dates
(`schedule_round`), and the scheme file's window applies to the years without a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app import clock
from app.promotions.models import PromotionRound
from app.promotions.schemes import Scheme


@dataclass(frozen=True)
class Window:
    """A scheme's window in one calendar year and the assessment year that round weighs."""

    scheme: str
    year: int
    assessment_year: int
    opens_on: date
    closes_on: date

    def is_open(self, on: date) -> bool:
        """Whether applications are taken on that day (both ends inclusive)."""
        return self.opens_on <= on <= self.closes_on


def round_row(session: Session, scheme: Scheme, year: int) -> PromotionRound | None:
    """The stored round of a scheme's year, if there is one."""
    return session.exec(select(PromotionRound).where(PromotionRound.scheme == scheme.scheme,
                                                     PromotionRound.year == year)).first()


def window_of(scheme: Scheme, year: int, session: Session | None = None) -> Window:
    """The window of a scheme in a calendar year (the stored round's dates when it has one)."""
    offset = 1 if scheme.window.assessment_year == "previous" else 0
    row = round_row(session, scheme, year) if session is not None else None
    if row is not None:
        return Window(scheme.scheme, year, row.assessment_year, row.opens_on, row.closes_on)
    opens, closes = scheme.window.dates(year)
    return Window(scheme.scheme, year, year - offset, opens, closes)


def next_window(scheme: Scheme, on: date | None = None,
                session: Session | None = None) -> Window:
    """The window that is open on a day, else the next one to open.

    A stored round may run over the new year (opened in December): last year's counts too.
    """
    on = on or clock.today()
    candidates = [window_of(scheme, year, session) for year in (on.year - 1, on.year,
                                                                on.year + 1)]
    return next(w for w in candidates if on <= w.closes_on)


def schedule_round(session: Session, scheme: Scheme, *, year: int, opens_on: date,
                   closes_on: date) -> PromotionRound:
    """Set one year's window of a scheme (HR's dates for that year; the demo's round)."""
    if opens_on > closes_on:
        raise ValueError("a round cannot close before it opens")
    row = round_row(session, scheme, year)
    if row is None:
        offset = 1 if scheme.window.assessment_year == "previous" else 0
        row = PromotionRound(scheme=scheme.scheme, year=year, assessment_year=year - offset,
                             opens_on=opens_on, closes_on=closes_on)
        session.add(row)
    else:
        row.opens_on, row.closes_on = opens_on, closes_on
    session.flush()
    return row


def open_round(session: Session, scheme: Scheme, on: date | None = None) -> PromotionRound | None:
    """The round taking applications on a day (created with its first application), or None."""
    on = on or clock.today()
    window = next_window(scheme, on, session)
    if not window.is_open(on):
        return None
    row = round_row(session, scheme, window.year)
    if row is None:
        row = PromotionRound(scheme=scheme.scheme, year=window.year,
                             assessment_year=window.assessment_year,
                             opens_on=window.opens_on, closes_on=window.closes_on)
        session.add(row)
        session.flush()
    return row


def rounds(session: Session, *, scheme: str | None = None) -> list[PromotionRound]:
    """Rounds held so far, newest first."""
    query = select(PromotionRound)
    if scheme:
        query = query.where(PromotionRound.scheme == scheme)
    return list(session.exec(query.order_by(col(PromotionRound.year).desc(),
                                            PromotionRound.scheme)))
