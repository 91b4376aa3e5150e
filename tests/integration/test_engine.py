"""The engine: who may act, guards, forms, sign-offs, delegation, audit and version pinning."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import audit, runtime
from app.engine.models import SignOff, Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry, compiled_count
from app.errors import (
    InvalidTransition,
    NotAllowed,
    StaleInstance,
    UnknownAction,
    ValidationFailed,
)
from app.org.models import Delegation
from tests.factories import bank, bare_plan_workflows

PLANNING = ["record_gap", "analyse_causes", "choose_methods", "draft_plan", "propose"]


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The improvement-plan workflow without its content guards: the engine alone is tested."""
    reg = Registry(bare_plan_workflows(tmp_path_factory.mktemp("engine_wf")))
    reg.load()
    runtime.set_registry(reg)
    return reg


@pytest.fixture
def org(db: Session, registry: Registry):
    b = bank(db)
    registry.sync(db)
    db.commit()
    return b


def start_plan(db: Session, org, **context) -> WorkflowInstance:
    instance = runtime.start(db, workflow="improvement_plan", subject=org.employee,
                             title="报表迟报", context=context)
    db.commit()
    return instance


def walk(db: Session, instance: WorkflowInstance, actor, triggers: list[str]) -> None:
    for trigger in triggers:
        runtime.fire(db, instance, trigger, actor, {})
    db.commit()


def open_tasks(db: Session, instance: WorkflowInstance) -> list[Task]:
    return list(db.exec(select(Task).where(Task.instance_id == instance.id,
                                           Task.status == TaskStatus.open)))


def test_starting_a_plan_opens_tasks_for_employee_and_supervisor(db, org) -> None:
    instance = start_plan(db, org)
    assert instance.state == "draft"
    assignees = {t.assignee_id for t in open_tasks(db, instance)}
    assert assignees == {org.employee.id, org.manager_a.id}


def test_an_action_moves_the_state_closes_tasks_and_writes_an_audit_event(db, org) -> None:
    instance = start_plan(db, org)
    result = runtime.fire(db, instance, "record_gap", org.employee, {})
    db.commit()
    assert (result.from_state, result.to_state) == ("draft", "gap_identified")
    done = db.exec(select(Task).where(Task.instance_id == instance.id,
                                      Task.status == TaskStatus.done)).all()
    assert {t.state for t in done} == {"draft"}
    assert {t.state for t in open_tasks(db, instance)} == {"gap_identified"}
    events = audit.trail(db, instance.id)
    assert [(e.trigger, e.from_state, e.to_state) for e in events] == [
        ("start", None, "draft"), ("record_gap", "draft", "gap_identified")]
    assert events[1].actor_id == org.employee.id


def test_a_colleague_who_is_not_named_may_not_act(db, org) -> None:
    instance = start_plan(db, org)
    with pytest.raises(NotAllowed):
        runtime.fire(db, instance, "record_gap", org.colleague, {})


def test_hr_of_another_branch_may_not_cancel_but_hr_of_the_branch_may(db, org) -> None:
    instance = start_plan(db, org)
    with pytest.raises(NotAllowed):
        runtime.fire(db, instance, "cancel", org.hr_b, {"reason": "不再需要"})
    db.rollback()
    result = runtime.fire(db, instance, "cancel", org.hr_a, {"reason": "员工调离"})
    db.commit()
    assert result.to_state == "cancelled"
    assert instance.closed_at is not None
    assert open_tasks(db, instance) == []


def test_unknown_trigger_and_wrong_state_are_clear_errors(db, org) -> None:
    instance = start_plan(db, org)
    with pytest.raises(UnknownAction, match="no action 'fly'"):
        runtime.fire(db, instance, "fly", org.employee, {})
    with pytest.raises(InvalidTransition, match="not possible while the case is in 'Draft'"):
        runtime.fire(db, instance, "submit_review", org.employee, {})


def test_required_reason_is_asked_for_next_to_its_field(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "send_back", org.manager_a, {"reason": "   "})
    assert set(caught.value.field_errors) == {"reason"}
    assert str(caught.value.field_errors["reason"]) == "This field is required."
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "send_back", org.manager_a, {"reason": "x" * 2001})
    assert "At most 2000" in str(caught.value.field_errors["reason"])


def test_choice_field_refuses_values_it_does_not_offer(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    walk(db, instance, org.employee, ["sign"])
    walk(db, instance, org.manager_a, ["sign", "begin"])
    walk(db, instance, org.employee, ["submit_review"])
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "review", org.manager_a, {"outcome": "great"})
    assert "outcome" in caught.value.field_errors


def test_plan_is_agreed_only_when_both_sides_have_signed(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    first = runtime.fire(db, instance, "sign", org.employee, {}, content_hash="a" * 64)
    db.commit()
    assert not first.completed and instance.state == "plan_proposed"
    assert {t.assignee_id for t in open_tasks(db, instance)} == {org.manager_a.id}
    with pytest.raises(InvalidTransition, match="already signed"):
        runtime.fire(db, instance, "sign", org.employee, {})
    db.rollback()
    second = runtime.fire(db, instance, "sign", org.manager_a, {}, content_hash="a" * 64)
    db.commit()
    assert second.completed and instance.state == "plan_agreed"
    signatures = db.exec(select(SignOff).where(SignOff.instance_id == instance.id)).all()
    assert {(s.signer_id, s.meaning, s.content_hash) for s in signatures} == {
        (org.employee.id, "agree", "a" * 64), (org.manager_a.id, "agree", "a" * 64)}


def test_agreement_cannot_carry_a_disagreement(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "sign", org.manager_a, {"disagreement": "不同意"})
    assert "disagreement" in caught.value.field_errors


def test_employee_may_acknowledge_and_record_disagreement(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "sign", org.employee, {"meaning": "acknowledge"})
    assert "disagreement" in caught.value.field_errors
    runtime.fire(db, instance, "sign", org.employee,
                 {"meaning": "acknowledge", "disagreement": "目标过高"})
    db.commit()
    row = db.exec(select(SignOff).where(SignOff.instance_id == instance.id)).one()
    assert (row.meaning, row.disagreement) == ("acknowledge", "目标过高")


def test_signatures_of_an_earlier_round_do_not_count_after_a_send_back(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING + ["sign"])
    runtime.fire(db, instance, "send_back", org.manager_a, {"reason": "步骤缺少日期"})
    walk(db, instance, org.employee, ["propose"])
    assert {t.assignee_id for t in open_tasks(db, instance)} == {org.employee.id,
                                                                  org.manager_a.id}
    runtime.fire(db, instance, "sign", org.manager_a, {})
    assert instance.state == "plan_proposed"


def test_signing_a_different_content_than_the_other_signer_is_refused(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    runtime.fire(db, instance, "sign", org.employee, {}, content_hash="a" * 64)
    db.commit()
    with pytest.raises(StaleInstance, match="content changed"):
        runtime.fire(db, instance, "sign", org.manager_a, {}, content_hash="b" * 64)


def test_voiding_signatures_asks_both_to_sign_again(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING + ["sign"])
    voided = runtime.void_sign_offs(db, instance, org.employee, "目标修改")
    db.commit()
    assert voided == 1
    assert {t.assignee_id for t in open_tasks(db, instance)} == {org.employee.id,
                                                                  org.manager_a.id}
    assert audit.trail(db, instance.id)[-1].trigger == "sign_offs_voided"


def test_review_outcome_routes_to_close_new_cycle_or_hr(db, org) -> None:
    def to_review(cycle: int) -> WorkflowInstance:
        instance = start_plan(db, org, cycle=cycle)
        walk(db, instance, org.employee, PLANNING + ["sign"])
        walk(db, instance, org.manager_a, ["sign", "begin"])
        walk(db, instance, org.employee, ["submit_review"])
        return instance

    met = to_review(1)
    runtime.fire(db, met, "review", org.manager_a, {"outcome": "met"})
    below = to_review(1)
    runtime.fire(db, below, "review", org.manager_a, {"outcome": "below_target"})
    third = to_review(3)
    runtime.fire(db, third, "review", org.manager_a, {"outcome": "no_progress"})
    db.commit()
    assert (met.state, below.state, third.state) == ("closed", "next_cycle", "hr_decision")
    assert {t.group_name for t in open_tasks(db, third)} == {"hr"}
    runtime.fire(db, third, "decide", org.hr_a,
                 {"hr_decision": "rotation", "reason": "三个周期仍未达到要求"})
    db.commit()
    assert third.state == "closed_by_hr"
    assert third.context["last_hr_decision"] == "rotation"


def test_delegate_acts_on_behalf_of_an_absent_supervisor(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING + ["sign"])
    today = clock.today()
    db.add(Delegation(principal_id=org.manager_a.id, delegate_id=org.president_a.id,
                      starts_on=today, ends_on=today + timedelta(days=5)))
    db.commit()
    result = runtime.fire(db, instance, "sign", org.president_a, {})
    db.commit()
    assert result.completed and result.on_behalf_of_id == org.manager_a.id
    event = audit.trail(db, instance.id)[-1]
    assert (event.actor_id, event.on_behalf_of_id) == (org.president_a.id, org.manager_a.id)


def test_an_expired_delegation_gives_no_power(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING + ["sign"])
    today = clock.today()
    db.add(Delegation(principal_id=org.manager_a.id, delegate_id=org.president_a.id,
                      starts_on=today - timedelta(days=9), ends_on=today - timedelta(days=1)))
    db.commit()
    with pytest.raises(NotAllowed):
        runtime.fire(db, instance, "sign", org.president_a, {})


def test_a_form_rendered_before_someone_else_acted_is_refused_as_stale(db, org) -> None:
    instance = start_plan(db, org)
    seen_version = instance.version
    walk(db, instance, org.manager_a, ["record_gap"])
    with pytest.raises(StaleInstance):
        runtime.fire(db, instance, "analyse_causes", org.employee, {},
                     expected_version=seen_version)


def test_two_sessions_acting_on_the_same_case_one_wins(db, org, engine) -> None:
    instance = start_plan(db, org)
    with Session(engine, expire_on_commit=False) as first, \
            Session(engine, expire_on_commit=False) as second:
        mine = first.get(WorkflowInstance, instance.id)
        theirs = second.get(WorkflowInstance, instance.id)
        runtime.fire(first, mine, "record_gap", org.employee, {})
        first.commit()
        with pytest.raises(StaleInstance):
            runtime.fire(second, theirs, "record_gap", org.manager_a, {})
        second.rollback()
    db.expire_all()
    assert len(audit.trail(db, instance.id)) == 2


def test_audit_events_are_hash_chained(db, org) -> None:
    instance = start_plan(db, org)
    walk(db, instance, org.employee, PLANNING)
    events = audit.trail(db, instance.id)
    assert events[0].prev_hash == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
        assert audit.event_hash(after) == after.hash
    db.expire_all()  # reload from the database: stored timestamps must hash the same
    assert all(audit.event_hash(e) == e.hash for e in audit.trail(db, instance.id))


def test_instances_keep_the_version_they_started_on(db, org, registry, tmp_path: Path) -> None:
    wf_dir = tmp_path / "workflows"
    shutil.copytree(registry.directory, wf_dir)
    first_registry = Registry(wf_dir)
    first_registry.sync(db)
    old = runtime.start(db, workflow="improvement_plan", subject=org.employee,
                        registry=first_registry)
    db.commit()
    path = wf_dir / "improvement_plan.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "label: {en: Draft, zh: 草稿}", "label: {en: First draft, zh: 初稿}"), encoding="utf-8")
    second_registry = Registry(wf_dir)
    second_registry.sync(db)
    new = runtime.start(db, workflow="improvement_plan", subject=org.employee,
                        registry=second_registry)
    db.commit()
    assert new.definition_id != old.definition_id
    old_spec = second_registry.compiled(db, old.definition_id).spec
    new_spec = second_registry.compiled(db, new.definition_id).spec
    assert old_spec.states["draft"].label["en"] == "Draft"
    assert new_spec.states["draft"].label["en"] == "First draft"
    runtime.fire(db, old, "record_gap", org.employee, {}, registry=second_registry)
    assert old.state == "gap_identified"
    # an unchanged file is the same version: syncing again adds nothing
    third_registry = Registry(wf_dir)
    third_registry.sync(db)
    assert third_registry.current_ids["improvement_plan"] == new.definition_id


def test_one_machine_per_version_is_shared_by_all_instances(db, org, registry) -> None:
    instances = [start_plan(db, org) for _ in range(5)]
    machines = {id(registry.compiled(db, i.definition_id).machine) for i in instances}
    before = compiled_count()
    for instance in instances:
        runtime.fire(db, instance, "record_gap", org.employee, {})
    db.commit()
    assert len(machines) == 1
    assert compiled_count() == before
