"""The HR dashboard's numbers against hand-built data, across units and HR scopes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.errors import NotAllowed, NotFound
from app.reports import service
from app.reports.models import OverdueSnapshot, OverdueSnapshotDay
from app.reports.snapshots import run_overdue_snapshot, snapshot_overdue
from tests.report_helpers import NOW, TODAY, World, build, promotion_round


@pytest.fixture
def world(db: Session, registry) -> World:
    return build(db, registry)


def lines(board: service.Dashboard) -> dict[str, int]:
    return {line.unit.name + (" own" if line.own else ""): line.total for line in board.by_unit}


def test_hr_of_branch_a_counts_overdue_tasks_by_unit_and_age(db, world):
    board = service.dashboard(db, viewer=world.bank.hr_a)
    assert board.area.focus.id == world.bank.branch_a.id
    assert lines(board) == {"甲一支行": 5, "甲分行 own": 2}
    assert board.overdue_total == 7
    assert board.aging == {"days_0_2": 2, "days_3_5": 2, "days_6_10": 1, "days_over_10": 2}
    sub = next(line for line in board.by_unit if not line.own)
    assert sub.buckets == {"days_0_2": 2, "days_3_5": 2, "days_6_10": 1, "days_over_10": 0}


def test_hr_of_branch_a_never_sees_branch_b(db, world):
    board = service.dashboard(db, viewer=world.bank.hr_a)
    assert "乙一支行" not in lines(board)
    with pytest.raises(NotFound):
        service.dashboard(db, viewer=world.bank.hr_a, unit_id=world.bank.branch_b.id)
    with pytest.raises(NotFound):
        service.dashboard(db, viewer=world.bank.hr_a, unit_id=world.bank.head_office.id)
    other = service.dashboard(db, viewer=world.bank.hr_b)
    assert lines(other) == {"乙一支行": 2}
    assert other.overdue_total == 2


def test_drill_down_numbers_add_up_from_head_office_to_sub_branch(db, world):
    top = service.dashboard(db, viewer=world.hr_ho)
    assert lines(top) == {"甲分行": 7, "乙分行": 2}
    assert top.overdue_total == sum(line.total for line in top.by_unit) == 9
    branch = service.dashboard(db, viewer=world.hr_ho, unit_id=world.bank.branch_a.id)
    assert branch.overdue_total == 7 == sum(line.total for line in branch.by_unit)
    sub = service.dashboard(db, viewer=world.hr_ho, unit_id=world.bank.sub_a.id)
    assert lines(sub) == {"甲一支行 own": 5}
    assert [u.id for u in sub.area.trail] == [world.bank.head_office.id, world.bank.branch_a.id,
                                              world.bank.sub_a.id]


def test_people_without_an_hr_role_get_no_dashboard(db, world):
    with pytest.raises(NotAllowed):
        service.dashboard(db, viewer=world.bank.manager_a)


def test_stuck_with_whom_lists_people_and_groups_most_overdue_first(db, world):
    board = service.dashboard(db, viewer=world.bank.hr_a)
    waiting = {(w.assignee_id, w.group_name): w.count for w in board.waiting}
    b = world.bank
    assert board.waiting[0].assignee_id == b.manager_a.id and board.waiting[0].count == 2
    assert waiting == {(b.manager_a.id, None): 2, (b.employee.id, None): 1,
                       (b.colleague.id, None): 1, (b.leader_a.id, None): 1,
                       (None, "hr"): 1, (None, None): 1}
    assert sum(waiting.values()) == board.overdue_total


def test_open_plans_by_cycle_and_closed_plans_by_outcome(db, world):
    board = service.dashboard(db, viewer=world.bank.hr_a)
    assert board.plans_by_cycle == [(1, 1), (2, 1), (3, 1)]
    assert board.outcomes == [("closed", 1), ("closed_by_hr:rotation", 1)]
    top = service.dashboard(db, viewer=world.hr_ho)
    assert top.plans_by_cycle == [(1, 2), (2, 1), (3, 1)]
    assert dict(top.outcomes) == {"closed": 2, "closed_by_hr:rotation": 1}


def test_promotion_round_by_step_counts_only_the_scope(db, registry, world):
    round_ = promotion_round(db, registry, world)
    board = service.dashboard(db, viewer=world.bank.hr_a)
    assert board.promotion.round.id == round_.id
    assert board.promotion.steps == [("promotion_pf_junior", "applied", 1),
                                     ("promotion_pf_junior", "recommendation", 1)]
    assert service.dashboard(db, viewer=world.bank.hr_b).promotion.steps == [
        ("promotion_pf_junior", "applied", 1)]


def test_daily_snapshot_rebuilds_past_days_and_feeds_the_trend(db, world):
    for day in (date(2026, 11, 16), date(2026, 11, 17), TODAY):
        snapshot_overdue(db, day)
    db.commit()
    assert service.dashboard(db, viewer=world.bank.hr_a).trend == [
        (date(2026, 11, 16), 6), (date(2026, 11, 17), 5), (TODAY, 7)]
    assert [n for _d, n in service.dashboard(db, viewer=world.bank.hr_b).trend] == [2, 2, 2]
    assert [n for _d, n in service.dashboard(db, viewer=world.hr_ho).trend] == [8, 7, 9]


def test_snapshot_is_idempotent_per_day(db, engine, world):
    assert run_overdue_snapshot(engine, TODAY) == 9
    assert run_overdue_snapshot(engine, TODAY) == 9
    db.expire_all()
    days = db.exec(select(OverdueSnapshotDay)).all()
    assert [(d.day, d.total) for d in days] == [(TODAY, 9)]
    rows = db.exec(select(OverdueSnapshot).where(OverdueSnapshot.day == TODAY)).all()
    assert sorted(r.total for r in rows) == [2, 2, 5]
    assert sum(r.days_over_10 for r in rows) == 2


def test_a_task_closed_today_leaves_the_dashboard_at_once(db, world):
    task = world.tasks(db, world.p3)[0]
    task.status = "done"
    task.closed_at = NOW.astimezone()
    db.commit()
    assert service.dashboard(db, viewer=world.bank.hr_a).overdue_total == 6
