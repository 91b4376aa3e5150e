"""JSON API for a person's titles per scheme, with their history (appointments, imports and
exits, each from its date)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.assessments.service import get_person
from app.i18n import pick_label
from app.promotions import grades
from app.promotions.schemes import schemes_of
from app.web.conditional import ApiRoute
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.ids import Id
from app.web.schemas import problems

router = APIRouter(prefix="/api/promotions/people", tags=["promotions"],
                   route_class=ApiRoute, responses=problems(401))


class TitleChangeOut(BaseModel):
    """One change of a person's title in a scheme."""

    title: str | None
    title_label: str
    previous: str | None
    effective_from: date
    source: str  # appointment | import | exit


class SchemeTitlesOut(BaseModel):
    """A person's title in one scheme now, and its history (oldest first)."""

    scheme: str
    scheme_label: str
    title: str | None
    title_label: str
    history: list[TitleChangeOut]


@router.get("/{person_id}/titles", response_model=list[SchemeTitlesOut],
            responses=problems(404), summary="A person's titles per scheme")
def person_titles(person_id: Id, request: Request,
                  db: SessionDep, user: CurrentUser, locale: LocaleDep
                  ) -> list[SchemeTitlesOut]:
    """Every scheme the person has held a title in: the title now (null after an exit) and
    each change with its date and how it came (appointment, import, exit)."""
    person = user if person_id == user.id else get_person(db, person_id=person_id, viewer=user)
    schemes = schemes_of(request.app.state.registry)
    out = []
    for name in sorted({row.scheme for row in grades.history(db, person_id=person.id)}):
        scheme = schemes.get(name)

        def label(title: str | None, scheme=scheme) -> str:  # noqa: ANN001
            held = scheme.title(title) if scheme and title else None
            return pick_label(held.label, locale) if held else ""

        rows = grades.history(db, person_id=person.id, scheme=name)
        now = grades.title_on(db, person_id=person.id, scheme=name)
        out.append(SchemeTitlesOut(
            scheme=name, scheme_label=pick_label(scheme.label, locale) if scheme else name,
            title=now, title_label=label(now),
            history=[TitleChangeOut(title=r.title or None, title_label=label(r.title),
                                    previous=r.previous_grade or None,
                                    effective_from=r.effective_from, source=r.source)
                     for r in rows]))
    return out
