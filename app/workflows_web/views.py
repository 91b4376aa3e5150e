"""The workflows page and diagram images."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.errors import NotFound
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.templating import render
from app.workflows_web.diagrams import diagram_svg, everywhere_note
from app.workflows_web.presenters import current_workflows, workflow_view

router = APIRouter(include_in_schema=False)


@router.get("/workflows")
def workflows(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """Every current workflow: states, actions, and its diagram."""
    registry = request.app.state.registry
    items = [
        (workflow_view(c, registry, locale),
         Markup(diagram_svg(c, locale)) + everywhere_note(c.spec, locale))  # noqa: S704
        for c in current_workflows(db, registry)
    ]
    return render(request, "workflows/index.html", {"items": items})


@router.get("/workflows/{name}/diagram.svg")
def diagram(
    name: str, request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    state: str | None = None,
) -> Response:
    """A workflow's current diagram as an SVG image, optionally with one state highlighted."""
    registry = request.app.state.registry
    if name not in registry.files:
        raise NotFound("No workflow named '{name}'.", name=name)
    compiled = registry.compiled_current(db, name)
    return Response(diagram_svg(compiled, locale, state), media_type="image/svg+xml")
