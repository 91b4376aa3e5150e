"""A typed client generated from the served /openapi.json (openapi-python-client, at test time)
drives the whole improvement-plan journey, and checks the signed hash and the audit chain from
API data alone. Cycle limit two, so the second cycle ends with HR's decision."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import bank

PROJECT = Path(__file__).resolve().parents[2]
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
_generated: dict[str, Any] = {}


@pytest.fixture(scope="module")
def workflows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped workflows with the cycle limit set to 2: configuration, not code."""
    target = tmp_path_factory.mktemp("wf") / "workflows"
    shutil.copytree(PROJECT / "workflows", target)
    path = target / "improvement_plan.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("cycle_limit: 3", "cycle_limit: 2"),
                    encoding="utf-8")
    return target


@pytest.fixture
def sdk(app, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The client package generated from what the app serves (generated once per run)."""
    if "sdk" not in _generated:
        where = tmp_path_factory.mktemp("client")
        with TestClient(app) as client:
            (where / "openapi.json").write_text(client.get("/openapi.json").text,
                                                encoding="utf-8")
        (where / "config.yaml").write_text("post_hooks: []\n", encoding="utf-8")
        done = subprocess.run(
            [str(GENERATOR), "generate", "--path", "openapi.json", "--meta", "none",
             "--config", "config.yaml"], cwd=where, capture_output=True, text=True, timeout=120,
            check=False)
        assert done.returncode == 0 and "Warning" not in done.stdout, done.stdout + done.stderr
        sys.path.insert(0, str(where))
        _generated["sdk"] = Sdk("stepwise_client")
    return _generated["sdk"]


class Sdk:
    """The generated package: `sdk.api.<tag>.<operation>`, `sdk.models`, `sdk.types`,
    `sdk.Client` (operation modules are imported on first use)."""

    def __init__(self, name: str) -> None:
        self.name = name
        package = importlib.import_module(name)
        self.Client = package.Client  # noqa: N815 - the generated class's own name
        self.models = importlib.import_module(f"{name}.models")
        self.types = importlib.import_module(f"{name}.types")
        self.api = _Modules(f"{name}.api")


class _Modules:
    """Attribute access that imports submodules."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(f"{self._prefix}.{name}")
        return _Modules(module.__name__) if hasattr(module, "__path__") else module


class Caller:
    """One person calling the API through the generated client with their bearer token."""

    def __init__(self, sdk: Any, client: Any) -> None:
        self.sdk, self.client = sdk, client
        self.etag: dict[int, str] = {}

    def __call__(self, operation: Any, *args: Any, expect: int = 200, **kwargs: Any) -> Any:
        """Call an operation; check the status; keep the plan's ETag for the next write."""
        answer = operation.sync_detailed(*args, client=self.client, **kwargs)
        assert answer.status_code == expect, answer.content.decode()
        return answer


def digest(document: Any) -> str:
    """SHA-256 of canonical JSON, as the API description says."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def people(db, demo_password_hash):
    org = bank(db)
    for person in (org.employee, org.manager_a, org.hr_a):
        person.password_hash = demo_password_hash
    db.commit()
    return org


@pytest.fixture
def sign_in(app, sdk) -> Iterator[Any]:
    """sign_in(person) -> a Caller with a write token minted over the API (no page used)."""
    api = sdk.api.sign_in_and_tokens
    models = sdk.models
    with ExitStack() as stack:

        def _sign_in(person: Any) -> Caller:
            browserless = stack.enter_context(TestClient(app, base_url="http://testserver"))
            anonymous = sdk.Client(base_url="http://testserver").set_httpx_client(browserless)
            session = api.open_session.sync_detailed(client=anonymous, body=models.SignInIn(
                username=person.employee_no, password="demo"))
            assert session.status_code == 201, session.content
            browserless.headers["X-CSRF-Token"] = session.parsed.csrf_token
            made = api.create_token.sync_detailed(client=anonymous, body=models.TokenIn(
                name="branch script", scope=models.TokenInScope.WRITE))
            assert made.status_code == 201 and made.headers["Location"] == made.parsed.url
            token = made.parsed.secret
            bearer = stack.enter_context(TestClient(app, base_url="http://testserver", headers={
                "Authorization": f"Bearer {token}", "Accept-Language": "en"}))
            return Caller(sdk, sdk.Client(base_url="http://testserver").set_httpx_client(bearer))

        yield _sign_in


class Plan:
    """The plan being worked on, its ETag after every answer, and the typed calls on it."""

    def __init__(self, sdk: Any, plan_id: int, etag: str) -> None:
        self.sdk, self.id, self.etag = sdk, plan_id, etag
        self.ops = sdk.api.improvement_plans

    def write(self, who: Caller, name: str, *args: Any, expect: int = 200, **kwargs: Any) -> Any:
        """A change based on the ETag last seen; the answer's ETag is the next base."""
        answer = who(getattr(self.ops, name), self.id, *args, if_match=self.etag, expect=expect,
                     **kwargs)
        self.etag = answer.headers["ETag"]
        return answer.parsed

    def act(self, who: Caller, trigger: str, **payload: Any) -> Any:
        """Take an action with its fields."""
        models = self.sdk.models
        body = models.PlanActionIn(payload=models.PlanActionInPayload.from_dict(payload))
        return self.write(who, "act", trigger, body=body).plan

    def read(self, who: Caller) -> Any:
        answer = who(self.ops.get_plan, self.id)
        self.etag = answer.headers["ETag"]
        return answer.parsed


def draft_and_propose(sdk: Any, me: Caller, boss: Caller, plan: Plan) -> None:
    models = sdk.models
    gap = plan.read(me).gaps[0]
    plan.act(me, "record_gap")
    plan.write(me, "decide_gap", gap.id, body=models.GapDecisionIn(included=True))
    plan.write(boss, "add_cause", gap.id, expect=201, body=models.CauseIn(
        side=models.CauseInSide.SUPERVISOR, nature=models.CauseInNature.SUBJECTIVE,
        catalogue_key="supervision_not_timely"))
    plan.act(me, "analyse_causes")
    plan.write(me, "add_method", expect=201, body=models.MethodIn(
        description="每日晨会演练服务话术", origin=models.MethodInOrigin.BRAINSTORMING,
        chosen=True))
    plan.act(me, "choose_methods")
    plan.write(me, "update_details", body=models.DetailsIn(
        goal="客户服务评价满意率达到95%", goal_metric="满意率", goal_unit="%", goal_target=95,
        resources="主管每周听课一次", period_start="2026-12-01", period_end="2027-01-31",
        cadence=models.DetailsInCadence.MONTHLY))
    plan.write(me, "add_step", expect=201, body=models.StepIn(
        description="参加服务礼仪培训", due_on="2026-12-15", expected_result="培训合格证"))
    plan.act(me, "draft_plan")
    assert plan.act(me, "propose", comment="请审阅").state == "plan_proposed"


def sign_and_begin(sdk: Any, me: Caller, boss: Caller, plan: Plan) -> Any:
    mine = {a.trigger: a for a in plan.read(me).actions}["sign"]
    assert [(f.name, [c.value for c in f.choices]) for f in mine.fields] == [
        ("meaning", ["agree", "acknowledge"]), ("disagreement", [])]
    theirs = {a.trigger: a for a in plan.read(boss).actions}["sign"]
    assert theirs.fields == []  # the supervisor may only agree: nothing else is offered
    plan.act(me, "sign", meaning="agree")
    assert plan.act(boss, "sign").state == "plan_agreed"
    return plan.act(me, "begin")


def review(sdk: Any, me: Caller, boss: Caller, plan: Plan, outcome: str) -> Any:
    models = sdk.models
    assert plan.act(me, "submit_review").state == "under_review"
    plan.write(me, "save_review", body=models.ReviewIn(
        period_label="2027年1月", cut_off_on="2027-01-31", post="柜员",
        indicators=[models.IndicatorIn(indicator="服务满意率", unit="%", actual=90,
                                        plan_value=95, time_proportional_target=95)],
        problems=[models.ProblemRowIn(problem="高峰期等候时间长", cause="窗口不足",
                                    indicator="服务满意率")]))
    return plan.act(boss, "review", outcome=outcome, comment="有进步但未达标")


def test_a_generated_client_drives_the_whole_plan_journey(sdk, people, sign_in) -> None:
    models, ops = sdk.models, sdk.api.improvement_plans
    me, boss, hr = sign_in(people.employee), sign_in(people.manager_a), sign_in(people.hr_a)

    opened = me(ops.create_plan, expect=201, body=models.PlanCreate(title="服务态度生硬", gaps=[
        models.GapIn(requirement="客户评价满意率不低于95%", actual="多次被评价服务态度差",
                        metric="满意率", unit="%", baseline=82, target=95,
                        source=models.GapInSource.CUSTOMER_EVALUATION)]))
    assert opened.headers["Location"] == f"/api/plans/{opened.parsed.id}"
    plan = Plan(sdk, opened.parsed.id, opened.headers["ETag"])
    draft_and_propose(sdk, me, boss, plan)
    plan.act(boss, "send_back", reason="步骤太少，请补充每周演练")
    plan.write(me, "add_step", expect=201, body=models.StepIn(
        description="每周演练一次服务话术", due_on="2027-01-10", expected_result="演练记录四次"))
    plan.act(me, "propose")
    running = sign_and_begin(sdk, me, boss, plan)

    for point in running.checkpoints[:2]:
        plan.write(me, "record_progress", point.id, body=models.ProgressIn(
            progress="已完成本期任务", evidence_text="客户评价表"))
        evidence = plan.write(me, "add_evidence", point.id, expect=201,
                              body=models.FileUpload(file=sdk.types.File(
                                  payload=BytesIO(b"%PDF-1.4 evaluation"),
                                  file_name="evaluation.pdf", mime_type="application/pdf")))
        assert evidence.sha256 == hashlib.sha256(b"%PDF-1.4 evaluation").hexdigest()
        checked = plan.write(boss, "check", point.id, body=models.CheckIn(
            result=models.CheckInResult.AT_RISK, comment="满意率仍低于目标"))
        assert checked.status == "checked" and len(checked.evidence) == 2

    first = review(sdk, me, boss, plan, "below_target")
    assert first.state == "next_cycle"
    outcome = me(ops.get_outcome, plan.id).parsed
    assert (outcome.review_outcome, outcome.review_outcome_label) == (
        "below_target", "Progress below target")
    second_id = outcome.next_plan_id
    second = me(ops.get_plan, second_id)
    assert second.parsed.previous_plan_id == plan.id and second.parsed.cycle_warning is True
    assert second.parsed.links.previous_cycle == f"/api/plans/{plan.id}"

    cycle_two = Plan(sdk, second_id, second.headers["ETag"])
    draft_and_propose(sdk, me, boss, cycle_two)
    sign_and_begin(sdk, me, boss, cycle_two)
    assert review(sdk, me, boss, cycle_two, "no_progress").state == "hr_decision"
    decided = cycle_two.act(hr, "decide", hr_decision="rotation",
                            decision_applies_to="employee", reason="两个周期仍未达到要求，安排轮岗")
    assert decided.state == "closed_by_hr"
    cycle_two.write(hr, "put_hr_comment", body=models.HrCommentIn(comment="同意轮岗，三个月后复评"))
    final = me(ops.get_outcome, second_id).parsed
    assert (final.hr_decision, final.hr_decision_label, final.applies_to, final.hr_comment) == (
        "rotation", "Rotation", "employee", "同意轮岗，三个月后复评")
    assert final.decided_by_id == people.hr_a.id and final.review_outcome == "no_progress"

    verify_signed_hash_and_chain(sdk, me, plan.id)


def verify_signed_hash_and_chain(sdk: Any, me: Caller, plan_id: int) -> None:
    """From API data alone: the signed version's content hashes to what both signed, and every
    event's payload hash and hash chain recompute."""
    ops = sdk.api.improvement_plans
    plan = me(ops.get_plan, plan_id).parsed
    signed = {s.content_hash for s in plan.signatures if not s.voided and s.meaning == "agree"}
    versions = me(ops.list_versions, plan_id).parsed
    frozen = me(ops.get_version, plan_id, versions[-1].number).parsed
    assert signed == {frozen.content_hash} == {digest(frozen.content.to_dict())}
    events = me(sdk.api.cases.get_events, plan.instance_id).parsed
    previous = ""
    for event in events:
        payload = event.payload.to_dict()
        assert event.payload_hash == digest(payload)
        assert event.prev_hash == previous
        assert event.hash_ == digest({
            "instance_id": plan.instance_id, "seq": event.seq, "at": event.sealed_at,
            "actor_id": event.actor_id, "on_behalf_of_id": event.on_behalf_of_id,
            "trigger": event.trigger, "from_state": event.from_state,
            "to_state": event.to_state, "comment": event.comment,
            "payload_hash": event.payload_hash, "prev_hash": event.prev_hash})
        previous = event.hash_
    assert [e.trigger for e in events].count("sign") == 2
