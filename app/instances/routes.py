"""JSON API for any workflow instance."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.instances import presenters, service
from app.instances.schemas import ActionIn, ActionResultOut, EventOut, InstanceOut
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.schemas import error_responses

router = APIRouter(prefix="/api/instances", tags=["instances"],
                   responses=error_responses(401, 404))


@router.get("/{instance_id}", response_model=InstanceOut)
def get_instance(
    instance_id: int, request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> InstanceOut:
    """State, version, open tasks and the actions the caller may take now, with their fields."""
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    view = presenters.instance_view(db, instance, user, locale, request.app.state.registry)
    return InstanceOut.model_validate(view)


@router.get("/{instance_id}/events", response_model=list[EventOut])
def get_events(
    instance_id: int, request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> list[EventOut]:
    """The audit timeline, oldest first."""
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    view = presenters.instance_view(db, instance, user, locale, request.app.state.registry)
    return [EventOut.model_validate(e) for e in view.events]


@router.post("/{instance_id}/actions/{trigger}", response_model=ActionResultOut,
             responses=error_responses(403, 409, 422))
def take_action(
    instance_id: int, trigger: str, body: ActionIn, request: Request, db: SessionDep,
    user: CurrentUser, locale: LocaleDep,
) -> ActionResultOut:
    """Fire an action. 403: not yours; 409: unknown, impossible now, or someone acted first;
    422: the form has errors (`errors` names each field)."""
    result = service.take_action(
        db_session=db, person=user, instance_id=instance_id, trigger=trigger,
        payload=body.payload, expected_version=body.expected_version,
        on_behalf_of_id=body.on_behalf_of_id,
    )
    view = presenters.instance_view(db, result.instance, user, locale, request.app.state.registry)
    return ActionResultOut(
        from_state=result.from_state, to_state=result.to_state, completed=result.completed,
        event_id=result.event_id, instance=InstanceOut.model_validate(view),
    )
