"""A case's route as a stepper: the main path, where the case stands, the side exits apart;
buttons carry the workflow's verbs; one person's repeated edits are one history line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.engine import definitions as defs
from app.instances.presenters import EventView, grouped_history, verb_label
from app.instances.route import main_path, route_view

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def plan_spec() -> defs.WorkflowSpec:
    vocabulary = defs.load_vocabulary(WORKFLOWS / "organisation.yaml")
    return defs.load_file(WORKFLOWS / "improvement_plan.yaml", vocabulary).spec


@pytest.fixture(scope="module")
def senior_spec() -> defs.WorkflowSpec:
    vocabulary = defs.load_vocabulary(WORKFLOWS / "organisation.yaml")
    return defs.load_file(WORKFLOWS / "promotion" / "pf_senior.yaml", vocabulary).spec


def statuses(view) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(s.state, s.status) for s in view.steps]


def test_the_plan_stepper_follows_the_wished_for_path_and_lists_the_side_exits(plan_spec):
    view = route_view(plan_spec, "in_progress", {}, ["draft", "in_progress"], "zh_CN")
    assert [s.state for s in view.steps] == [
        "draft", "gap_identified", "causes_analysed", "methods_chosen", "plan_drafted",
        "plan_proposed", "plan_agreed", "in_progress", "under_review", "closed"]
    assert view.position == 8 and view.current.label == "实施中"
    assert [s.status for s in view.steps] == ["done"] * 7 + ["current", "ahead", "ahead"]
    assert view.side_exits == ["待人力资源部决定", "转入下一改进周期", "已按人力资源部决定关闭",
                               "已取消"]


def test_a_side_state_stands_after_the_last_main_step_the_case_passed(plan_spec):
    passed = ["draft", "gap_identified", "plan_proposed", "in_progress", "under_review"]
    hr = route_view(plan_spec, "hr_decision", {"cycle": 3}, passed, "en")
    assert statuses(hr)[8:] == [("under_review", "done"), ("hr_decision", "current"),
                                ("next_cycle", "ahead")]
    cancelled = route_view(plan_spec, "cancelled", {}, ["draft", "gap_identified"], "en")
    assert statuses(cancelled) == [("draft", "done"), ("gap_identified", "done"),
                                   ("cancelled", "stopped")]
    closed = route_view(plan_spec, "closed", {}, passed, "en")
    assert statuses(closed)[-1] == ("closed", "finished")


def test_a_route_on_the_case_data_is_read_from_the_case(senior_spec):
    assert "supervising_branch_approval" not in main_path(senior_spec, "applied", {})
    via = main_path(senior_spec, "applied", {"via_supervising_branch": True})
    assert via[:3] == ["applied", "supervising_branch_approval", "recommendation"]


def test_buttons_say_what_they_do_and_the_history_what_happened(plan_spec):
    assert verb_label(plan_spec, "record_gap", "draft", "zh_CN") == "提交差距"
    assert verb_label(plan_spec, "analyse_causes", "gap_identified", "en") == (
        "Submit the cause analysis")
    assert verb_label(plan_spec, "begin", "plan_agreed", "zh_CN") == "开始实施"  # label is a verb
    assert plan_spec.transition("record_gap").label["zh"] == "差距已记录"


def event(seq: int, trigger: str, actor: int, comment: str = "") -> EventView:
    at = datetime(2026, 3, 2, 9, seq, tzinfo=UTC)
    return EventView(seq=seq, at=at, actor_id=actor, actor_name="", on_behalf_of_id=None,
                     on_behalf_of_name="", trigger=trigger, action_label=trigger,
                     from_state="draft", from_label="", to_state="draft", to_label="",
                     comment=comment)


def test_one_persons_repeated_edits_in_a_row_are_one_history_line():
    history = grouped_history([
        event(1, "edit_cause", 7), event(2, "edit_cause", 7), event(3, "edit_cause", 7),
        event(4, "edit_cause", 8), event(5, "record_gap", 7), event(6, "record_gap", 7),
        event(7, "edit_step", 7), event(8, "edit_step", 7, comment="why")])
    assert [(e.trigger, e.actor_id, e.count) for e in history] == [
        ("edit_cause", 7, 3), ("edit_cause", 8, 1), ("record_gap", 7, 1), ("record_gap", 7, 1),
        ("edit_step", 7, 1), ("edit_step", 7, 1)]
    assert history[0].first_at.minute == 1 and history[0].at.minute == 3
