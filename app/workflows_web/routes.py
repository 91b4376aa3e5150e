"""JSON API: the current workflow definitions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from app.web.conditional import ApiRoute
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.workflows_web.presenters import current_workflows, workflow_view

router = APIRouter(prefix="/api", tags=["workflows"], route_class=ApiRoute)


class Out(BaseModel):
    """Read models built from the presenters' dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class WorkflowStateOut(Out):
    """A state."""

    name: str
    label: str
    terminal: bool
    initial: bool
    description: str


class WorkflowActionOut(Out):
    """An action."""

    trigger: str
    label: str
    sources: list[str]
    destinations: list[str]
    actors: list[str]
    fields: list[str]
    optional: bool
    sign_offs: list[str]


class WorkflowOut(Out):
    """A current workflow definition; its diagram is at /workflows/{name}/diagram.svg."""

    name: str
    label: str
    description: str
    version: int
    definition_id: int
    states: list[WorkflowStateOut]
    transitions: list[WorkflowActionOut]


@router.get("/workflows", response_model=list[WorkflowOut], summary="Workflow definitions")
def workflows(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> list[WorkflowOut]:
    """Every current workflow with labels in the caller's language."""
    registry = request.app.state.registry
    return [WorkflowOut.model_validate(workflow_view(c, registry, locale))
            for c in current_workflows(db, registry)]
