"""JSON API for improvement plans: the same operations as the pages, under /api/plans.

Every answer about a plan (or a part of it) carries the plan's ETag; every change sends it back
as If-Match. Creating a part answers 201 with the part and its Location.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Path, Query, Request, Response
from sqlmodel import Session

from app.engine.models import WorkflowInstance
from app.errors import NotAllowed, NotFound
from app.i18n import pick_label
from app.org.models import Person
from app.plans import api_presenters as out
from app.plans import (
    checkpoints,
    content,
    difference,
    evidence,
    outcomes,
    review,
    rules,
    service,
)
from app.plans.api_schemas import (
    CauseIn,
    CauseOut,
    CheckIn,
    CheckpointOut,
    ChoiceIn,
    DetailsIn,
    DetailsOut,
    DiffOut,
    EvidenceOut,
    GapDecisionIn,
    GapIn,
    GapOut,
    HrCommentIn,
    MethodIn,
    MethodOut,
    OutcomeOut,
    PlanActionIn,
    PlanActionOut,
    PlanCreate,
    PlanList,
    PlanOut,
    PlanStepOut,
    PlanSummary,
    ProgressIn,
    ReviewIn,
    ReviewOut,
    StepIn,
    VersionOut,
    VersionSummaryOut,
)
from app.plans.models import Cause, Checkpoint, Evidence, Gap, ImprovementPlan, Method, Step
from app.web.conditional import ApiRoute, IfMatchDep, version_etag
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.ids import Id
from app.web.labels import person_name
from app.web.schemas import problems
from app.web.strict import FileUpload

router = APIRouter(prefix="/api/plans", tags=["improvement plans"], route_class=ApiRoute)
Trigger = Annotated[str, Path(max_length=60, description="The action's name; see `actions`")]
# A change to a plan: not found, refused, wrong state / incomplete / already done, stale, no ETag.
WRITE = problems(409, 412, 428)


def _plan(db: Session, plan_id: int, user: Person) -> tuple[ImprovementPlan, WorkflowInstance]:
    return service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)


def _tagged(response: Response, instance: WorkflowInstance, location: str | None = None) -> None:
    """The plan's ETag (after a change: its new version), and where a new part lives."""
    response.headers["ETag"] = version_etag(instance.version)
    if location:
        response.headers["Location"] = location


def _plan_out(request: Request, db: Session, plan: ImprovementPlan, instance: WorkflowInstance,
              user: Person, locale: str) -> PlanOut:
    return PlanOut(**out.plan_out(db, plan, instance, user, locale, request.app.state.registry))


def _child(db: Session, model: type, row_id: int, plan: ImprovementPlan) -> Any:
    row = db.get(model, row_id)
    owner = getattr(row, "plan_id", None)
    if isinstance(row, Cause):
        gap = db.get(Gap, row.gap_id)
        owner = gap.plan_id if gap else None
    if row is None or owner != plan.id:
        raise NotFound("No such item in this plan.")
    return row


@router.get("", response_model=PlanList, summary="Plans you may see, filtered")
def list_plans(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    state: Annotated[str | None, Query(max_length=60)] = None,
    cycle: Annotated[int | None, Query(ge=1, le=99)] = None,
    org_unit_id: Annotated[Id | None, Query()] = None,
    employee_id: Annotated[Id | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PlanList:
    """The plans the caller may see, newest first."""
    result = service.list_plans(db, viewer=user, state=state, cycle=cycle,
                                org_unit_id=org_unit_id, employee_id=employee_id, search=q,
                                page=page, per_page=per_page)
    registry = request.app.state.registry
    items = []
    for plan, instance, person in result.rows:
        spec = registry.compiled(db, instance.definition_id).spec
        found = spec.states.get(instance.state)
        items.append(PlanSummary(
            id=plan.id, instance_id=instance.id, title=plan.title, employee_id=person.id,
            employee_name=person_name(person, locale), cycle=plan.cycle, state=instance.state,
            state_label=pick_label(found.label, locale) if found else instance.state,
            updated_at=instance.updated_at, url=out.plan_url(plan.id)))
    return PlanList(total=result.total, page=result.page, per_page=result.per_page, items=items)


@router.post("", response_model=PlanOut, status_code=201, responses=problems(),
             summary="Open a plan")
def create_plan(body: PlanCreate, request: Request, response: Response, db: SessionDep,
                user: CurrentUser, locale: LocaleDep) -> PlanOut:
    """Open a draft plan for yourself or someone you supervise (HR: anyone in scope); 403
    for anyone else, whether or not they exist."""
    if body.employee_id not in (None, user.id):
        employee = db.get(Person, body.employee_id)
        if employee is None or not employee.active or not service.may_open_for(
                db, actor=user, employee=employee):
            raise NotAllowed("You may open plans only for yourself and the people you "
                             "supervise.")
    plan = service.open_plan(db, actor=user, employee_id=body.employee_id, title=body.title,
                             gaps=body.gaps)
    plan, instance = _plan(db, plan.id, user)
    _tagged(response, instance, out.plan_url(plan.id))
    return _plan_out(request, db, plan, instance, user, locale)


@router.get("/{plan_id}", response_model=PlanOut, summary="A plan with its content")
def get_plan(plan_id: Id, request: Request, response: Response, db: SessionDep,
             user: CurrentUser, locale: LocaleDep) -> PlanOut:
    """The plan, its state, outcome, the rules it still breaks and what you may do now."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user,
                                                   log_view=True)
    _tagged(response, instance)
    return _plan_out(request, db, plan, instance, user, locale)


@router.post("/{plan_id}/actions/{trigger}", response_model=PlanActionOut, responses=WRITE,
             summary="Take an action")
def act(plan_id: Id, trigger: Trigger, body: PlanActionIn, request: Request,
        response: Response, db: SessionDep, user: CurrentUser, locale: LocaleDep,
        if_match: IfMatchDep) -> PlanActionOut:
    """Take one of the plan's `actions` (record_gap, propose, sign, send_back, review, decide…)
    with its fields. 404: no such action; 409: not possible now (`wrong_state`), the plan is
    not complete enough (`incomplete`), or you already signed (`already_done`)."""
    plan, instance = _plan(db, plan_id, user)
    result = service.act_on(db, plan=plan, instance=instance, actor=user, trigger=trigger,
                            payload=body.payload,
                            expected_version=if_match.expected_version(instance.version),
                            on_behalf_of_id=body.on_behalf_of_id, strict_payload=True)
    _tagged(response, instance)
    return PlanActionOut(from_state=result.from_state, to_state=result.to_state,
                         completed=result.completed, event_id=result.event_id,
                         plan=_plan_out(request, db, plan, instance, user, locale))


# --- Gaps and causes -----------------------------------------------------------------------

@router.get("/{plan_id}/gaps/{gap_id}", response_model=GapOut, summary="A gap")
def get_gap(plan_id: Id, gap_id: Id, response: Response, db: SessionDep, user: CurrentUser,
            locale: LocaleDep) -> GapOut:
    """A gap with its causes."""
    plan, instance = _plan(db, plan_id, user)
    gap = _child(db, Gap, gap_id, plan)
    _tagged(response, instance)
    return GapOut(**out.gap_out(plan.id, gap, content.causes_of(db, [gap.id])[gap.id], locale))


@router.post("/{plan_id}/gaps", response_model=GapOut, status_code=201, responses=WRITE,
             summary="Record a gap")
def add_gap(plan_id: Id, body: GapIn, response: Response, db: SessionDep,
            user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> GapOut:
    """Record a performance gap: job requirement against actual result."""
    plan, instance = _plan(db, plan_id, user)
    gap = service.add_gap(db, plan_id=plan_id, actor=user, gap=body,
                          expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance, f"{out.plan_url(plan_id)}/gaps/{gap.id}")
    return GapOut(**out.gap_out(plan.id, gap, [], locale))


@router.put("/{plan_id}/gaps/{gap_id}", response_model=GapOut, responses=WRITE,
            summary="Change a gap")
def update_gap(plan_id: Id, gap_id: Id, body: GapIn, response: Response, db: SessionDep,
               user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> GapOut:
    """Change a recorded gap."""
    plan, instance = _plan(db, plan_id, user)
    gap = service.update_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id, gap=body,
                             expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return GapOut(**out.gap_out(plan.id, gap, content.causes_of(db, [gap.id])[gap.id], locale))


@router.delete("/{plan_id}/gaps/{gap_id}", status_code=204, response_class=Response,
               responses=WRITE, summary="Remove a gap")
def remove_gap(plan_id: Id, gap_id: Id, response: Response, db: SessionDep, user: CurrentUser,
               if_match: IfMatchDep) -> Response:
    """Remove a gap and its causes."""
    _plan_id, instance = _plan(db, plan_id, user)
    service.remove_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id,
                       expected_version=if_match.expected_version(instance.version))
    return Response(status_code=204, headers={"ETag": version_etag(instance.version)})


@router.put("/{plan_id}/gaps/{gap_id}/decision", response_model=GapOut, responses=WRITE,
            summary="Decide whether a gap enters the plan")
def decide_gap(plan_id: Id, gap_id: Id, body: GapDecisionIn, response: Response, db: SessionDep,
               user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> GapOut:
    """Include a gap in the plan, or leave it out with a reason."""
    plan, instance = _plan(db, plan_id, user)
    gap = service.decide_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id, decision=body,
                             expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return GapOut(**out.gap_out(plan.id, gap, content.causes_of(db, [gap.id])[gap.id], locale))


@router.post("/{plan_id}/gaps/{gap_id}/causes", response_model=CauseOut, status_code=201,
             responses=WRITE, summary="Record a cause of a gap")
def add_cause(plan_id: Id, gap_id: Id, body: CauseIn, response: Response, db: SessionDep,
              user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> CauseOut:
    """Record a cause from the employee's, the supervisor's or the environment's side."""
    plan, instance = _plan(db, plan_id, user)
    cause = service.add_cause(db, plan_id=plan_id, actor=user, gap_id=gap_id, cause=body,
                              expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance, f"{out.plan_url(plan_id)}/causes/{cause.id}")
    return CauseOut(**out.cause_out(plan.id, cause, locale))


@router.get("/{plan_id}/causes/{cause_id}", response_model=CauseOut, summary="A cause")
def get_cause(plan_id: Id, cause_id: Id, response: Response, db: SessionDep,
              user: CurrentUser, locale: LocaleDep) -> CauseOut:
    """A cause of one of the plan's gaps."""
    plan, instance = _plan(db, plan_id, user)
    cause = _child(db, Cause, cause_id, plan)
    _tagged(response, instance)
    return CauseOut(**out.cause_out(plan.id, cause, locale))


@router.delete("/{plan_id}/causes/{cause_id}", status_code=204, response_class=Response,
               responses=WRITE, summary="Remove a cause")
def remove_cause(plan_id: Id, cause_id: Id, db: SessionDep, user: CurrentUser,
                 if_match: IfMatchDep) -> Response:
    """Remove a cause."""
    _plan_row, instance = _plan(db, plan_id, user)
    service.remove_cause(db, plan_id=plan_id, actor=user, cause_id=cause_id,
                         expected_version=if_match.expected_version(instance.version))
    return Response(status_code=204, headers={"ETag": version_etag(instance.version)})


# --- Methods, details, steps ---------------------------------------------------------------

@router.get("/{plan_id}/methods/{method_id}", response_model=MethodOut, summary="A method")
def get_method(plan_id: Id, method_id: Id, response: Response, db: SessionDep,
               user: CurrentUser) -> MethodOut:
    """A candidate method."""
    plan, instance = _plan(db, plan_id, user)
    _tagged(response, instance)
    return MethodOut(**out.method_out(_child(db, Method, method_id, plan)))


@router.post("/{plan_id}/methods", response_model=MethodOut, status_code=201, responses=WRITE,
             summary="Add a candidate method")
def add_method(plan_id: Id, body: MethodIn, response: Response, db: SessionDep,
               user: CurrentUser, if_match: IfMatchDep) -> MethodOut:
    """Add a candidate method (optionally for one gap; `chosen` when both accept it)."""
    _plan_row, instance = _plan(db, plan_id, user)
    method = service.add_method(db, plan_id=plan_id, actor=user, method=body,
                                expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance, f"{out.plan_url(plan_id)}/methods/{method.id}")
    return MethodOut(**out.method_out(method))


@router.put("/{plan_id}/methods/{method_id}/choice", response_model=MethodOut, responses=WRITE,
            summary="Choose a method or not")
def choose_method(plan_id: Id, method_id: Id, body: ChoiceIn, response: Response,
                  db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> MethodOut:
    """Mark a method chosen (both sides accept it) or not."""
    _plan_row, instance = _plan(db, plan_id, user)
    method = service.choose_method(
        db, plan_id=plan_id, actor=user, method_id=method_id, chosen=body.chosen,
        expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return MethodOut(**out.method_out(method))


@router.delete("/{plan_id}/methods/{method_id}", status_code=204, response_class=Response,
               responses=WRITE, summary="Remove a method")
def remove_method(plan_id: Id, method_id: Id, db: SessionDep, user: CurrentUser,
                  if_match: IfMatchDep) -> Response:
    """Remove a candidate method."""
    _plan_row, instance = _plan(db, plan_id, user)
    service.remove_method(db, plan_id=plan_id, actor=user, method_id=method_id,
                          expected_version=if_match.expected_version(instance.version))
    return Response(status_code=204, headers={"ETag": version_etag(instance.version)})


@router.get("/{plan_id}/details", response_model=DetailsOut, summary="Goal, resources, period")
def get_details(plan_id: Id, response: Response, db: SessionDep,
                user: CurrentUser) -> DetailsOut:
    """The goal, committed resources, period and check cadence."""
    plan, instance = _plan(db, plan_id, user)
    _tagged(response, instance)
    return DetailsOut(**out.details_out(plan))


@router.put("/{plan_id}/details", response_model=DetailsOut, responses=WRITE,
            summary="Set goal, resources, period and cadence")
def update_details(plan_id: Id, body: DetailsIn, response: Response, db: SessionDep,
                   user: CurrentUser, if_match: IfMatchDep) -> DetailsOut:
    """Set the goal (quantified, or why it cannot be), resources, period and cadence."""
    _plan_row, instance = _plan(db, plan_id, user)
    plan = service.update_details(db, plan_id=plan_id, actor=user, details=body,
                                  expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return DetailsOut(**out.details_out(plan))


@router.get("/{plan_id}/steps/{step_id}", response_model=PlanStepOut, summary="A step")
def get_step(plan_id: Id, step_id: Id, response: Response, db: SessionDep,
             user: CurrentUser) -> PlanStepOut:
    """A dated step."""
    plan, instance = _plan(db, plan_id, user)
    _tagged(response, instance)
    return PlanStepOut(**out.step_out(_child(db, Step, step_id, plan)))


@router.post("/{plan_id}/steps", response_model=PlanStepOut, status_code=201, responses=WRITE,
             summary="Add a dated step")
def add_step(plan_id: Id, body: StepIn, response: Response, db: SessionDep,
             user: CurrentUser, if_match: IfMatchDep) -> PlanStepOut:
    """Add a step with its date (inside the plan period) and required result."""
    _plan_row, instance = _plan(db, plan_id, user)
    step = service.add_step(db, plan_id=plan_id, actor=user, step=body,
                            expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance, f"{out.plan_url(plan_id)}/steps/{step.id}")
    return PlanStepOut(**out.step_out(step))


@router.put("/{plan_id}/steps/{step_id}", response_model=PlanStepOut, responses=WRITE,
            summary="Change a step")
def update_step(plan_id: Id, step_id: Id, body: StepIn, response: Response, db: SessionDep,
                user: CurrentUser, if_match: IfMatchDep) -> PlanStepOut:
    """Change a step."""
    _plan_row, instance = _plan(db, plan_id, user)
    step = service.update_step(db, plan_id=plan_id, actor=user, step_id=step_id, step=body,
                               expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return PlanStepOut(**out.step_out(step))


@router.delete("/{plan_id}/steps/{step_id}", status_code=204, response_class=Response,
               responses=WRITE, summary="Remove a step")
def remove_step(plan_id: Id, step_id: Id, db: SessionDep, user: CurrentUser,
                if_match: IfMatchDep) -> Response:
    """Remove a step."""
    _plan_row, instance = _plan(db, plan_id, user)
    service.remove_step(db, plan_id=plan_id, actor=user, step_id=step_id,
                        expected_version=if_match.expected_version(instance.version))
    return Response(status_code=204, headers={"ETag": version_etag(instance.version)})


# --- Checkpoints and evidence --------------------------------------------------------------

@router.get("/{plan_id}/checkpoints/{checkpoint_id}", response_model=CheckpointOut,
            summary="A checkpoint with its evidence")
def get_checkpoint(plan_id: Id, checkpoint_id: Id, response: Response, db: SessionDep,
                   user: CurrentUser) -> CheckpointOut:
    """A checkpoint: its date, what was recorded, the check, and the evidence."""
    plan, instance = _plan(db, plan_id, user)
    point = evidence.checkpoint_of(db, plan, checkpoint_id)
    _tagged(response, instance)
    return CheckpointOut(**out.checkpoint_with_evidence(db, point))


@router.put("/{plan_id}/checkpoints/{checkpoint_id}/progress", response_model=CheckpointOut,
            responses=WRITE, summary="Record progress at a checkpoint")
def record_progress(plan_id: Id, checkpoint_id: Id, body: ProgressIn, response: Response,
                    db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> CheckpointOut:
    """The employee records progress (and evidence as text; files go to .../evidence); the
    supervisor is then asked to check. Recording again replaces the text."""
    plan, instance = _plan(db, plan_id, user)
    point = checkpoints.record_progress(
        db, plan=plan, instance=instance, checkpoint_id=checkpoint_id, actor=user, entry=body,
        expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return CheckpointOut(**out.checkpoint_with_evidence(db, point))


@router.post("/{plan_id}/checkpoints/{checkpoint_id}/evidence", response_model=EvidenceOut,
             status_code=201, responses=problems(409, 412, 413, 428),
             summary="Add an evidence file to a checkpoint")
async def add_evidence(plan_id: Id, checkpoint_id: Id, upload: Annotated[FileUpload, File()],
                       response: Response, db: SessionDep, user: CurrentUser,
                       if_match: IfMatchDep) -> EvidenceOut:
    """The employee adds a file (PDF, image, Excel, Word, text) to a checkpoint not yet
    checked; its SHA-256 is recorded in the audit trail."""
    plan, instance = _plan(db, plan_id, user)
    row = evidence.add_file(db, plan=plan, instance=instance, checkpoint_id=checkpoint_id,
                            actor=user, filename=upload.file.filename or "file",
                            data=await upload.file.read(),
                            expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance, f"{out.plan_url(plan_id)}/evidence/{row.id}")
    return EvidenceOut(**out.evidence_out(plan.id, row))


@router.put("/{plan_id}/checkpoints/{checkpoint_id}/check", response_model=CheckpointOut,
            responses=WRITE, summary="Check a checkpoint (supervisor)")
def check(plan_id: Id, checkpoint_id: Id, body: CheckIn, response: Response,
          db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> CheckpointOut:
    """The supervisor checks recorded progress: on track, at risk or behind (with a comment)."""
    plan, instance = _plan(db, plan_id, user)
    point = checkpoints.check(db, plan=plan, instance=instance, checkpoint_id=checkpoint_id,
                              actor=user, entry=body,
                              expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return CheckpointOut(**out.checkpoint_with_evidence(db, point))


@router.get("/{plan_id}/evidence/{evidence_id}", summary="Download an evidence file",
            response_class=Response,
            responses={200: {"description": "The file as it was uploaded", "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in sorted(set(rules.EVIDENCE_TYPES.values()))}}})
def evidence_file(plan_id: Id, evidence_id: Id, db: SessionDep, user: CurrentUser) -> Response:
    """An evidence file, to those who may see the plan."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    row = db.get(Evidence, evidence_id)
    point = db.get(Checkpoint, row.checkpoint_id) if row else None
    if row is None or point is None or point.plan_id != plan.id or row.data is None:
        raise NotFound("No such evidence file.")
    safe_name = row.filename.replace('"', "")
    return Response(row.data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(safe_name)}",
        "X-Content-Type-Options": "nosniff", "ETag": f'"{row.sha256}"'})


# --- Review and outcome --------------------------------------------------------------------

@router.get("/{plan_id}/review", response_model=ReviewOut, summary="The period-end review")
def get_review(plan_id: Id, response: Response, db: SessionDep,
               user: CurrentUser) -> ReviewOut:
    """The period-end review (总结) with its sign-off block; 404 until it is written."""
    plan, instance = _plan(db, plan_id, user)
    found = out.review_out(review.load(db, plan.id))
    if found is None:
        raise NotFound("The period-end review has not been written yet.")
    _tagged(response, instance)
    return ReviewOut(**found)


@router.put("/{plan_id}/review", response_model=ReviewOut, responses=WRITE,
            summary="Write the period-end review")
def save_review(plan_id: Id, body: ReviewIn, response: Response, db: SessionDep,
                user: CurrentUser, if_match: IfMatchDep) -> ReviewOut:
    """Write the whole review (replaces the earlier text) while the plan runs or is reviewed."""
    plan, instance = _plan(db, plan_id, user)
    bundle = review.save(db, plan=plan, instance=instance, actor=user, draft=body,
                         expected_version=if_match.expected_version(instance.version))
    _tagged(response, instance)
    return ReviewOut(**out.review_out(bundle))


@router.get("/{plan_id}/outcome", response_model=OutcomeOut, summary="How the cycle ended")
def get_outcome(plan_id: Id, request: Request, response: Response, db: SessionDep,
                user: CurrentUser, locale: LocaleDep) -> OutcomeOut:
    """The review outcome, HR's decision and whom it applies to, HR's comment, the next cycle."""
    plan, instance = _plan(db, plan_id, user)
    spec = request.app.state.registry.compiled(db, instance.definition_id).spec
    _tagged(response, instance)
    return OutcomeOut(**out.outcome_out(db, plan, instance, user, spec, locale))


@router.put("/{plan_id}/outcome/hr-comment", response_model=OutcomeOut, responses=WRITE,
            summary="Write HR's comment on the review (HR)")
def put_hr_comment(plan_id: Id, body: HrCommentIn, request: Request, response: Response,
                   db: SessionDep, user: CurrentUser, locale: LocaleDep,
                   if_match: IfMatchDep) -> OutcomeOut:
    """HR's comment in the review's sign-off block, once the review is submitted (audited)."""
    plan, instance = _plan(db, plan_id, user)
    outcomes.write_hr_comment(db, plan=plan, instance=instance, actor=user,
                              comment=body.comment,
                              expected_version=if_match.expected_version(instance.version))
    spec = request.app.state.registry.compiled(db, instance.definition_id).spec
    _tagged(response, instance)
    return OutcomeOut(**out.outcome_out(db, plan, instance, user, spec, locale))


# --- Versions ------------------------------------------------------------------------------

@router.get("/{plan_id}/versions", response_model=list[VersionSummaryOut],
            summary="Frozen versions of the plan")
def list_versions(plan_id: Id, db: SessionDep, user: CurrentUser) -> list[VersionSummaryOut]:
    """Frozen versions, oldest first (each signature binds to one's content hash)."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    return [VersionSummaryOut(**out.version_out(plan.id, v, with_content=False))
            for v in service.versions(db, plan=plan)]


def _version(db: Session, plan: ImprovementPlan, number: int) -> Any:
    found = next((v for v in service.versions(db, plan=plan) if v.number == number), None)
    if found is None:
        raise NotFound("No such version of this plan.")
    return found


@router.get("/{plan_id}/versions/{number}", response_model=VersionOut,
            summary="A frozen version with its content")
def get_version(plan_id: Id, number: Annotated[int, Path(ge=1, le=100_000)], response: Response,
                db: SessionDep, user: CurrentUser) -> VersionOut:
    """The exact content that was frozen (and signed): its SHA-256 as canonical JSON is
    `content_hash`. A version never changes, so its ETag is its hash."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    version = _version(db, plan, number)
    response.headers["ETag"] = f'"{version.content_hash}"'
    return VersionOut(**out.version_out(plan.id, version, with_content=True))


@router.get("/{plan_id}/versions/{older}/diff/{newer}", response_model=DiffOut,
            summary="What changed between two versions")
def diff_versions(plan_id: Id, older: Annotated[int, Path(ge=1, le=100_000)],
                  newer: Annotated[int, Path(ge=1, le=100_000)], db: SessionDep,
                  user: CurrentUser, locale: LocaleDep) -> DiffOut:
    """Lines removed (-) and added (+), in your language."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    return DiffOut(older=older, newer=newer, lines=difference.diff(
        _version(db, plan, older), _version(db, plan, newer), locale=locale))
