"""The "My work" page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.tasks.presenters import task_rows
from app.tasks.service import my_tasks
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/tasks")
def my_work(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """Everything waiting on me, overdue first."""
    rows = task_rows(db, my_tasks(db_session=db, person=user), locale, request.app.state.registry)
    return render(request, "tasks/my_work.html", {"rows": rows})
