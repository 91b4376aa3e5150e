"""Every reminder kind of every task kind of every workflow, through a real SMTP server: each
mail names its own thing with its date, says where the deadline stands the day it is sent, and
its links offer exactly that task's action; `stepwise simulate` lists the same mails."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from app.engine import calendar, runtime
from app.engine.actors import ActorResolver
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.i18n import pick_label
from app.notifications import action_links
from app.notifications.compose import show_date
from app.org.models import Delegation, Person
from app.plans import checkpoints
from app.plans.models import Checkpoint
from app.plans.schemas import ProgressEntry
from app.promotions import service as promotions
from app.promotions.grades import hold_title
from app.reminders.plan import Phase, phase_on
from app.reminders.recipients import group_holders
from app.reminders.sweep import sweep
from app.scheduler_cli import simulated_mails
from tests.factories import WORKFLOWS, bank
from tests.plan_helpers import running_plan
from tests.promotion_helpers import GOOD_FACTS, ProvincialBank, provincial_bank
from tests.reminder_helpers import at, run_days
from tests.smtp_sink import Received

START = date(2026, 9, 21)  # a Monday before Mid-Autumn (25 Sep) and National Day
WORKING_DAYS = 16  # every rung of every ladder, the longest (15 working days) included
LINK = re.compile(r"http://stepwise\.test(/\S+)")


@pytest.fixture
def workflows_dir() -> Path:
    return WORKFLOWS


def place(db: Session, registry: Registry, instance: WorkflowInstance, state: str) -> None:
    """Put a case in a state as if an action had just moved it there (its tasks and timers)."""
    compiled = registry.compiled(db, instance.definition_id)
    runtime._close_tasks(db, instance, None, None, status=TaskStatus.cancelled)
    instance.state = state
    db.flush()
    opened = runtime._open_tasks(db, compiled, instance, ActorResolver(db, instance),
                                 entered=True)
    db.flush()
    runtime._tasks_changed(db, compiled, instance, opened)


def people_of(db: Session, instance: WorkflowInstance, expr: str) -> set[int]:
    assignee = ActorResolver(db, instance).assignee(expr)
    if assignee is None:
        return set()
    if assignee.person_id is not None:
        return {assignee.person_id}
    return set(group_holders(db, assignee.group_kind, assignee.group_name,
                             assignee.org_unit_id))


def own_triggers(db: Session, registry: Registry, instance: WorkflowInstance,
                 person_id: int) -> set[str]:
    """The workflow actions of the open tasks this person is asked to act on."""
    spec = registry.compiled(db, instance.definition_id).spec
    wanted: set[str] = set()
    for task in db.exec(select(Task).where(Task.instance_id == instance.id,
                                           Task.status == TaskStatus.open)):
        if person_id not in people_of(db, instance, task.actor_expr):
            continue
        for t in spec.transitions_from(instance.state):
            names = [s.signer for s in t.sign_offs] or t.actors
            if not t.optional and task.actor_expr in names:
                wanted.add(t.trigger)
    return wanted


def expected_subject(cal: Any, kind: str, case: str, due: date, day: date) -> str:
    """The subject line a mail must carry: where the deadline stands on the day it is sent."""
    cal_phase, days = phase_on(cal, due, day)
    if kind == "escalation":
        return f"上报：{case} 已逾期 {days} 个工作日"
    return {
        Phase.ahead: f"提醒：{case} 将于 {show_date(due, 'zh_CN')} 到期",
        Phase.last_day: f"提醒：{case} 将于 {show_date(due, 'zh_CN')} 到期",
        Phase.today: f"今日到期：{case}",
        Phase.overdue: f"已逾期 {days} 个工作日：{case}",
        Phase.passed: f"提醒：{case} 已于 {show_date(due, 'zh_CN')} 到期",
    }[cal_phase]


def test_every_deadline_of_every_workflow_mails_exactly_what_simulate_lists(
        db, engine, registry, sink) -> None:
    org: ProvincialBank = provincial_bank(db)
    registry.sync(db)
    db.commit()
    at(START, 9)
    cal = calendar.load(db)
    until = cal.add_working_days(START, WORKING_DAYS)
    due_of_field = START + timedelta(days=17)  # a plan period ending on a Thursday holiday
    cases: list[tuple[WorkflowInstance, str]] = []
    for name, loaded in registry.files.items():
        for state, spec_state in loaded.spec.states.items():
            if spec_state.deadline is None:
                continue
            instance = runtime.start(db, workflow=name, subject=org.employee,
                                     title=f"{name}/{state}",
                                     context={"period_end": due_of_field.isoformat()})
            place(db, registry, instance, state)
            cases.append((instance, state))
    db.commit()

    expected: Counter[tuple[str, str, date]] = Counter()
    for instance, state in cases:
        spec = registry.compiled(db, instance.definition_id).spec
        _, planned = simulated_mails(spec, cal, START, until, state, "zh_CN", due_of_field)
        for mail in planned:
            for person_id in set().union(*(people_of(db, instance, e) for e in mail.to)):
                expected[(db.get(Person, person_id).email, mail.kind, mail.day)] += 1

    run_days(engine, registry, sink.settings(), START, until)
    received = Counter((r.to, r.kind, r.day) for r in sink.received)
    assert received == expected
    assert {kind for _, kind, _ in received} == {"before_due", "on_due", "overdue",
                                                 "escalation"}
    same_day = Counter((r.to, r.day, r.message["Subject"], r.text) for r in sink.received)
    assert max(same_day.values()) == 1  # nobody gets the same mail twice on one day

    by_title = {i.title: (i, state) for i, state in cases}
    for mail in sink.received:
        check_mail(db, registry, cal, by_title, mail)


def check_mail(db: Session, registry: Registry, cal: Any, by_title: dict[str, Any],
               mail: Received) -> None:
    """The mail names its case and step, the due date as it stands that day, and offers
    exactly the actions of the reminded tasks (an escalation offers none)."""
    # (Python's header folding may drop the space between an ASCII word and an encoded one)
    subject = mail.message["Subject"].replace(" ", "")
    title = next((t for t in by_title if t + "（" in subject or t + "(" in subject), None)
    assert title is not None, subject
    instance, state = by_title[title]
    db.refresh(instance)
    spec = registry.compiled(db, instance.definition_id).spec
    [task] = [t for t in db.exec(select(Task).where(Task.instance_id == instance.id))
              if t.state == state][:1]
    due = calendar.local_date(task.due_at)
    case = f"{title}（张三）"
    assert subject == expected_subject(cal, mail.kind, case, due, mail.day).replace(" ", "")
    assert f"“{pick_label(spec.states[state].label, 'zh_CN')}”这一步" in mail.text
    tokens = [path.rsplit("/", 1)[1] for path in LINK.findall(mail.text)
              if path.startswith("/act/")]
    if mail.kind == "escalation":
        assert tokens == []
        return
    person = db.exec(select(Person).where(Person.email == mail.to)).one()
    offered = {action_links.find(db, token).trigger for token in tokens}
    assert offered == own_triggers(db, registry, instance, person.id), mail.text


def test_a_checkpoint_mail_names_the_checkpoint_and_leads_to_its_form(
        db, engine, registry, app, client, login) -> None:
    org = bank(db)
    registry.sync(db)
    db.commit()
    at(date(2026, 11, 20))
    plan = running_plan(db, org.employee, org.manager_a)
    # the last day of the period: a checkpoint of the period end and the step itself
    settings = app.state.settings
    run_days(engine, registry, settings, date(2026, 12, 8), date(2026, 12, 8))
    mails = outbox_mail(db, org.employee)
    checkpoint_mail = next(m for m in mails if "检查点" in m.subject)
    assert checkpoint_mail.subject == ("提醒：检查点（2026年12月15日） · 服务态度生硬（张三） "
                                       "将于 2026年12月15日 到期")
    assert "2026年12月15日 的检查点（步骤：参加服务礼仪培训）将于 2026年12月15日 到期。" \
        in checkpoint_mail.body_text
    [point] = [c for c in db.exec(select(Checkpoint).where(Checkpoint.plan_id == plan.id))
               if c.due_on == date(2026, 12, 15)]
    links = LINK_ANY.findall(checkpoint_mail.body_text)
    assert [p for p in links if "/act/" in p] == []  # it never offers a plan transition
    record = f"/plans/{plan.id}/checkpoints/{point.id}/record"
    assert record in links
    assert {p for p in links if p != "/preferences"} == {record, f"/instances/{plan.instance_id}"}

    login(client, org.employee)
    landed = client.get(record, follow_redirects=False)
    assert landed.status_code == 303
    assert landed.headers["location"] == f"/plans/{plan.id}#checkpoint-{point.id}-progress"
    page = client.get(landed.headers["location"])
    assert f'id="checkpoint-{point.id}-progress"' in page.text

    # once recorded, the supervisor is reminded to check it, with the form to check it
    instance = db.get(WorkflowInstance, plan.instance_id)
    checkpoints.record_progress(db, plan=plan, instance=instance, checkpoint_id=point.id,
                                actor=org.employee,
                                entry=ProgressEntry(progress="已参加培训"))
    db.commit()
    run_days(engine, registry, settings, date(2026, 12, 15), date(2026, 12, 15))
    [check_mail_row] = [m for m in outbox_mail(db, org.manager_a) if "检查点" in m.subject]
    assert check_mail_row.subject == "今日到期：检查点（2026年12月15日） · 服务态度生硬（张三）"
    assert f"/plans/{plan.id}/checkpoints/{point.id}/check" in check_mail_row.body_text
    assert "/act/" not in check_mail_row.body_text
    # overdue, the supervisor is reminded; the ladder never escalates to the one it waits on
    run_days(engine, registry, settings, date(2026, 12, 16), date(2026, 12, 18))
    about_it = [m for m in outbox_mail(db, org.manager_a)
                if "检查点（2026年12月15日）" in m.subject]
    assert [m.kind for m in about_it] == ["on_due", "overdue"]


LINK_ANY = re.compile(r"http://127\.0\.0\.1:8000(/\S+)")


def outbox_mail(db: Session, person: Person) -> list[Any]:
    from app.notifications.models import MessageStatus, OutboxMessage

    db.expire_all()
    return list(db.exec(select(OutboxMessage).where(
        OutboxMessage.recipient_id == person.id, OutboxMessage.status == MessageStatus.sent)
        .order_by(OutboxMessage.id)))


def test_one_person_gets_one_mail_per_thing_and_rung_however_many_tasks(
        db, engine, registry, sink) -> None:
    org = bank(db)
    registry.sync(db)
    at(date(2026, 3, 2))
    for principal in (org.employee, org.manager_a):  # the colleague stands in for both
        db.add(Delegation(principal_id=principal.id, delegate_id=org.colleague.id,
                          starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)))
    runtime.start(db, workflow="improvement_plan", subject=org.employee, title="报表迟报")
    db.commit()
    run_days(engine, registry, sink.settings(), date(2026, 3, 2), date(2026, 3, 20))
    mine = [r for r in sink.to(org.colleague.email) if r.kind != "escalation"]
    employee_mails = sink.to(org.employee.email)
    assert [(r.day, r.kind) for r in mine] == [(r.day, r.kind) for r in employee_mails]
    first = mine[0]
    [note] = [line for line in first.text.splitlines() if "的代理人收到此邮件" in line]
    assert "张三" in note and "甲支行长" in note
    offered = [path for path in LINK.findall(first.text) if path.startswith("/act/")]
    assert [action_links.find(db, p.rsplit("/", 1)[1]).trigger for p in offered] == [
        "record_gap"]  # one link for the one action both tasks ask for


def test_a_mail_says_what_is_true_on_the_day_it_is_sent(db, engine, registry, sink) -> None:
    org = bank(db)
    registry.sync(db)
    at(date(2026, 2, 25))  # due in 3 working days: Saturday 28 Feb, a make-up working day
    instance = runtime.start(db, workflow="improvement_plan", subject=org.employee,
                             title="月度报表迟报")
    place(db, registry, instance, "gap_identified")
    db.commit()
    settings = sink.settings()
    sweep(engine, at(date(2026, 2, 25), 10), settings=settings, registry=registry)
    assert sink.received == []
    # nobody swept on the Saturday it fell due: Monday's mail says it is overdue
    sweep(engine, at(date(2026, 3, 2), 10), settings=settings, registry=registry)
    subjects = {r.message["Subject"] for r in sink.received}
    assert subjects == {"已逾期 1 个工作日：月度报表迟报（张三）"}
    assert all("今日到期" not in r.text for r in sink.received)
    assert {r.kind for r in sink.received} == {"on_due"}


def test_a_filing_notice_is_mailed_once_for_information_and_leads_to_where_it_is_acknowledged(
        db, engine, registry, sink) -> None:
    org = provincial_bank(db)
    hold_title(db, person=org.employee_b, scheme="bocom_private_finance_2002", title="cm",
               on=date(2024, 1, 1))
    registry.sync(db)
    db.commit()
    at(date(2026, 3, 10))  # inside the private-finance application window
    request = promotions.apply(db, scheme="bocom_private_finance_2002", person=org.employee_b,
                               applicant=org.employee_b, target_title="senior_cm",
                               facts=GOOD_FACTS)
    instance = db.get(WorkflowInstance, request.instance_id)
    for trigger, actor, payload in (("recommend", org.branch_pf, {}),
                                    ("check", org.branch_leader, {}),
                                    ("decide", org.branch_president, {}),
                                    ("appoint", org.branch_hr, {"issue_date": "2026-03-10"})):
        runtime.fire(db, instance, trigger, actor, payload)
    db.commit()
    run_days(engine, registry, sink.settings(), date(2026, 3, 10), date(2026, 3, 20))
    [notice] = sink.to(org.filer.email)
    assert notice.kind == "filing_notice"
    assert notice.message["Subject"] == "报备：王五 自 2026年3月10日 起聘任为 高级客户经理"
    assert "仅供知悉，无需审批" in notice.text
    links = [path for path in LINK.findall(notice.text) if path != "/preferences"]
    assert links == ["/promotions/queue", f"/instances/{instance.id}"]
