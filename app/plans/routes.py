"""JSON API for improvement plans: the same operations as the pages, under /api/plans."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.errors import NotFound
from app.i18n import pick_label
from app.plans import checkpoints, content, presenters, review, service
from app.plans.api_schemas import (
    ActionIn,
    CheckpointOut,
    ChoiceIn,
    DiffOut,
    PlanCreate,
    PlanList,
    PlanOut,
    PlanSummary,
    VersionOut,
)
from app.plans.models import Checkpoint, Evidence
from app.plans.schemas import (
    CauseDraft,
    CheckEntry,
    GapDecision,
    GapDraft,
    MethodDraft,
    PlanDetails,
    ProgressEntry,
    ReviewDraft,
    StepDraft,
)
from app.web.deps import CurrentUser, LocaleDep, SessionDep

router = APIRouter(prefix="/api/plans", tags=["improvement plans"])
Version = Annotated[int | None, Query(description="The version you saw; 409 if it moved on")]


def _out(request: Request, db: SessionDep, plan_id: int, user, locale: str) -> PlanOut:
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
    compiled = request.app.state.registry.compiled(db, instance.definition_id)
    return PlanOut(**presenters.plan_document(db, plan, user, locale, compiled))


@router.get("", response_model=PlanList, summary="Plans you may see, filtered")
def list_plans(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    state: str | None = None, cycle: int | None = Query(default=None, ge=1, le=99),
    org_unit_id: int | None = None, q: str | None = Query(default=None, max_length=100),
    page: int = Query(default=1, ge=1, le=100_000), per_page: int = Query(default=50, ge=1, le=200),
) -> PlanList:
    """The plans the caller may see, newest first."""
    result = service.list_plans(db, viewer=user, state=state, cycle=cycle,
                                org_unit_id=org_unit_id, search=q, page=page, per_page=per_page)
    registry = request.app.state.registry
    items = []
    for plan, instance, person in result.rows:
        spec = registry.compiled(db, instance.definition_id).spec
        items.append(PlanSummary(
            id=plan.id, title=plan.title, employee_id=person.id,
            employee_name=person.name if locale == "zh_CN" else (person.name_en or person.name),
            cycle=plan.cycle, state=instance.state,
            state_label=pick_label(spec.states[instance.state].label, locale),
            updated_at=instance.updated_at))
    return PlanList(total=result.total, page=result.page, per_page=result.per_page, items=items)


@router.post("", response_model=PlanOut, status_code=201, summary="Open a plan")
def create_plan(body: PlanCreate, request: Request, db: SessionDep, user: CurrentUser,
                locale: LocaleDep) -> PlanOut:
    """Open a draft plan for yourself or someone you supervise (HR: anyone in scope)."""
    plan = service.open_plan(db, actor=user, employee_id=body.employee_id, title=body.title,
                             gaps=body.gaps)
    return _out(request, db, plan.id, user, locale)


@router.get("/{plan_id}", response_model=PlanOut, summary="A plan with its content")
def get_plan(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
             locale: LocaleDep) -> PlanOut:
    """The plan, its state, the rules it still breaks and what you may do now."""
    service.get_plan(db, plan_id=plan_id, viewer=user, log_view=True)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/actions/{trigger}", response_model=PlanOut, summary="Take an action")
def act(plan_id: int, trigger: str, body: ActionIn, request: Request, db: SessionDep,
        user: CurrentUser, locale: LocaleDep) -> PlanOut:
    """Fire a workflow action (record_gap, propose, sign, send_back, review…)."""
    service.act(db, plan_id=plan_id, actor=user, trigger=trigger, payload=body.payload,
                expected_version=body.expected_version, on_behalf_of_id=body.on_behalf_of_id)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/gaps", response_model=PlanOut, status_code=201)
def add_gap(plan_id: int, body: GapDraft, request: Request, db: SessionDep, user: CurrentUser,
            locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Record a gap."""
    service.add_gap(db, plan_id=plan_id, actor=user, gap=body, expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.put("/{plan_id}/gaps/{gap_id}", response_model=PlanOut)
def update_gap(plan_id: int, gap_id: int, body: GapDraft, request: Request, db: SessionDep,
               user: CurrentUser, locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Change a gap."""
    service.update_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id, gap=body,
                       expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.delete("/{plan_id}/gaps/{gap_id}", response_model=PlanOut)
def remove_gap(plan_id: int, gap_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Remove a gap."""
    service.remove_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id,
                       expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/gaps/{gap_id}/decision", response_model=PlanOut)
def decide_gap(plan_id: int, gap_id: int, body: GapDecision, request: Request, db: SessionDep,
               user: CurrentUser, locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Include a gap in the plan, or leave it out with a reason."""
    service.decide_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id, decision=body,
                       expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/gaps/{gap_id}/causes", response_model=PlanOut, status_code=201)
def add_cause(plan_id: int, gap_id: int, body: CauseDraft, request: Request, db: SessionDep,
              user: CurrentUser, locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Record a cause of a gap."""
    service.add_cause(db, plan_id=plan_id, actor=user, gap_id=gap_id, cause=body,
                      expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.delete("/{plan_id}/causes/{cause_id}", response_model=PlanOut)
def remove_cause(plan_id: int, cause_id: int, request: Request, db: SessionDep,
                 user: CurrentUser, locale: LocaleDep, expected_version: Version = None
                 ) -> PlanOut:
    """Remove a cause."""
    service.remove_cause(db, plan_id=plan_id, actor=user, cause_id=cause_id,
                         expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/methods", response_model=PlanOut, status_code=201)
def add_method(plan_id: int, body: MethodDraft, request: Request, db: SessionDep,
               user: CurrentUser, locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Add a candidate method."""
    service.add_method(db, plan_id=plan_id, actor=user, method=body,
                       expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/methods/{method_id}/choice", response_model=PlanOut)
def choose_method(plan_id: int, method_id: int, body: ChoiceIn, request: Request,
                  db: SessionDep, user: CurrentUser, locale: LocaleDep,
                  expected_version: Version = None) -> PlanOut:
    """Mark a method chosen or not."""
    service.choose_method(db, plan_id=plan_id, actor=user, method_id=method_id,
                          chosen=body.chosen, expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.delete("/{plan_id}/methods/{method_id}", response_model=PlanOut)
def remove_method(plan_id: int, method_id: int, request: Request, db: SessionDep,
                  user: CurrentUser, locale: LocaleDep, expected_version: Version = None
                  ) -> PlanOut:
    """Remove a method."""
    service.remove_method(db, plan_id=plan_id, actor=user, method_id=method_id,
                          expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.put("/{plan_id}/details", response_model=PlanOut)
def update_details(plan_id: int, body: PlanDetails, request: Request, db: SessionDep,
                   user: CurrentUser, locale: LocaleDep, expected_version: Version = None
                   ) -> PlanOut:
    """Set goal, resources, period and cadence."""
    service.update_details(db, plan_id=plan_id, actor=user, details=body,
                           expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/steps", response_model=PlanOut, status_code=201)
def add_step(plan_id: int, body: StepDraft, request: Request, db: SessionDep, user: CurrentUser,
             locale: LocaleDep, expected_version: Version = None) -> PlanOut:
    """Add a dated step."""
    service.add_step(db, plan_id=plan_id, actor=user, step=body,
                     expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.put("/{plan_id}/steps/{step_id}", response_model=PlanOut)
def update_step(plan_id: int, step_id: int, body: StepDraft, request: Request, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, expected_version: Version = None
                ) -> PlanOut:
    """Change a step."""
    service.update_step(db, plan_id=plan_id, actor=user, step_id=step_id, step=body,
                        expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.delete("/{plan_id}/steps/{step_id}", response_model=PlanOut)
def remove_step(plan_id: int, step_id: int, request: Request, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, expected_version: Version = None
                ) -> PlanOut:
    """Remove a step."""
    service.remove_step(db, plan_id=plan_id, actor=user, step_id=step_id,
                        expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.post("/{plan_id}/checkpoints/{checkpoint_id}/progress", response_model=CheckpointOut)
async def record_progress(
    plan_id: int, checkpoint_id: int, db: SessionDep, user: CurrentUser,
    progress: Annotated[str, Form(min_length=1, max_length=4000)],
    evidence_text: Annotated[str, Form(max_length=4000)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
    expected_version: Version = None,
) -> CheckpointOut:
    """The employee records progress with evidence text and files (multipart form)."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
    uploads = [(f.filename or "file", await f.read()) for f in files or [] if f.filename]
    point = checkpoints.record_progress(
        db, plan=plan, instance=instance, checkpoint_id=checkpoint_id,
        actor=user, entry=ProgressEntry(progress=progress, evidence_text=evidence_text),
        files=uploads, expected_version=expected_version)
    return CheckpointOut(id=point.id, due_on=point.due_on, status=point.status,
                         check_result=point.check_result)


@router.post("/{plan_id}/checkpoints/{checkpoint_id}/check", response_model=CheckpointOut)
def check(plan_id: int, checkpoint_id: int, body: CheckEntry, db: SessionDep,
          user: CurrentUser, expected_version: Version = None) -> CheckpointOut:
    """The supervisor checks a recorded checkpoint."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
    point = checkpoints.check(db, plan=plan, instance=instance,
                              checkpoint_id=checkpoint_id, actor=user, entry=body,
                              expected_version=expected_version)
    return CheckpointOut(id=point.id, due_on=point.due_on, status=point.status,
                         check_result=point.check_result)


@router.put("/{plan_id}/review", response_model=PlanOut)
def save_review(plan_id: int, body: ReviewDraft, request: Request, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, expected_version: Version = None
                ) -> PlanOut:
    """Write the period-end review (replaces the earlier text)."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
    review.save(db, plan=plan, instance=instance, actor=user, draft=body,
                expected_version=expected_version)
    return _out(request, db, plan_id, user, locale)


@router.get("/{plan_id}/versions", response_model=list[VersionOut])
def list_versions(plan_id: int, db: SessionDep, user: CurrentUser) -> list[VersionOut]:
    """Frozen versions of the plan (each signature binds to one)."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    return [VersionOut(number=v.number, content_hash=v.content_hash, reason=v.reason,
                       created_at=v.created_at) for v in service.versions(db, plan=plan)]


@router.get("/{plan_id}/versions/{older}/diff/{newer}", response_model=DiffOut)
def diff_versions(plan_id: int, older: int, newer: int, db: SessionDep,
                  user: CurrentUser) -> DiffOut:
    """What changed between two versions."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    by_number = {v.number: v for v in service.versions(db, plan=plan)}
    if older not in by_number or newer not in by_number:
        raise NotFound("No such version of this plan.")
    return DiffOut(older=older, newer=newer,
                   lines=content.diff(by_number[older], by_number[newer]))


@router.get("/{plan_id}/evidence/{evidence_id}", summary="Download an evidence file")
def evidence_file(plan_id: int, evidence_id: int, db: SessionDep, user: CurrentUser) -> Response:
    """An evidence file, to those who may see the plan."""
    plan = service.get_plan(db, plan_id=plan_id, viewer=user)
    row = db.get(Evidence, evidence_id)
    point = db.get(Checkpoint, row.checkpoint_id) if row else None
    if row is None or point is None or point.plan_id != plan.id or row.data is None:
        raise NotFound("No such evidence file.")
    safe_name = row.filename.replace('"', "")
    return Response(row.data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(safe_name)}",
        "X-Content-Type-Options": "nosniff"})
