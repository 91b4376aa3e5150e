"""JSON API for any workflow case (a plan's, a promotion request's): state, trail, actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlmodel import Session

from app.engine.models import WorkflowInstance
from app.instances import presenters, service
from app.instances.schemas import ActionIn, ActionResultOut, EventOut, InstanceOut
from app.org.models import Person
from app.web.conditional import ApiRoute, IfMatchDep, version_etag
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.ids import Id
from app.web.schemas import problems

router = APIRouter(prefix="/api/instances", tags=["cases"], route_class=ApiRoute)
API = "/api/instances"


def instance_out(request: Request, db: Session, instance: WorkflowInstance, user: Person,
                 locale: str) -> InstanceOut:
    """A case as the API answers it, with its neighbours' ids and URLs."""
    view = presenters.instance_view(db, instance, user, locale, request.app.state.registry)
    linked = presenters.case_links(instance)
    data: dict[str, Any] = {k: v for k, v in view.__dict__.items() if k != "events"}
    data["actions"] = presenters.api_actions(view.actions,
                                             f"{API}/{instance.id}/actions/{{trigger}}")
    data["tasks"] = [t.__dict__ for t in view.tasks]
    data["plan_id"] = linked["plan_id"]
    data["promotion_request_id"] = linked["promotion_request_id"]
    data["links"] = {
        "self": f"{API}/{instance.id}", "events": f"{API}/{instance.id}/events",
        "subject": f"/api/people/{instance.subject_id}",
        "plan": f"/api/plans/{linked['plan_id']}" if linked["plan_id"] else None,
        "promotion_request": (f"/api/promotions/requests/{linked['promotion_request_id']}"
                              if linked["promotion_request_id"] else None),
    }
    return InstanceOut.model_validate(data)


@router.get("/{instance_id}", response_model=InstanceOut, summary="A case")
def get_instance(instance_id: Id, request: Request, response: Response, db: SessionDep,
                 user: CurrentUser, locale: LocaleDep) -> InstanceOut:
    """State, version (the ETag), open tasks and the actions you may take now, with their
    typed fields; the plan or promotion request the case carries."""
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    response.headers["ETag"] = version_etag(instance.version)
    return instance_out(request, db, instance, user, locale)


@router.get("/{instance_id}/events", response_model=list[EventOut],
            summary="The case's hash-chained audit trail")
def get_events(instance_id: Id, request: Request, response: Response, db: SessionDep,
               user: CurrentUser, locale: LocaleDep) -> list[EventOut]:
    """Every event, oldest first, with its payload and hashes: each `hash` seals the event
    and the one before it (see the API description for the recipe)."""
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    view = presenters.instance_view(db, instance, user, locale, request.app.state.registry)
    response.headers["ETag"] = version_etag(instance.version)
    return [EventOut.model_validate(e.__dict__) for e in view.events]


@router.post("/{instance_id}/actions/{trigger}", response_model=ActionResultOut,
             responses=problems(409, 412, 428), summary="Take an action on a case")
def take_action(
    instance_id: Id, trigger: Annotated[str, Path(max_length=60)], body: ActionIn,
    request: Request, response: Response, db: SessionDep, user: CurrentUser,
    locale: LocaleDep, if_match: IfMatchDep,
) -> ActionResultOut:
    """Take one of the case's `actions` with its fields and If-Match. 404: no such action;
    403: not yours; 409: not possible now (`wrong_state`, `incomplete`, `already_done`);
    412: someone acted first; 422: `errors` names each wrong field."""
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    result = service.take_action(
        db_session=db, person=user, instance_id=instance_id, trigger=trigger,
        payload=body.payload, expected_version=if_match.expected_version(instance.version),
        on_behalf_of_id=body.on_behalf_of_id, strict_payload=True,
    )
    response.headers["ETag"] = version_etag(result.instance.version)
    return ActionResultOut(
        from_state=result.from_state, to_state=result.to_state, completed=result.completed,
        event_id=result.event_id,
        instance=instance_out(request, db, result.instance, user, locale),
    )
