"""The demo bank's promotions: this year's rounds dated around the seeding day (the private-
finance round open on that day), cases waiting at every step of every route, each step taken
by whoever holds it at its own time in the past, and the branches' staffing figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.assessments import service as assessments
from app.assessments.schemas import QuarterlyEntry
from app.engine import runtime
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.org.models import Person, RoleAssignment
from app.promotions import exits
from app.promotions import service as promotions
from app.promotions.rounds import schedule_round
from app.promotions.schemes import get_scheme
from app.promotions.staffing_service import save_figures

PF, CORP, POST = "bocom_private_finance_2002", "corporate_cm_2012", "bocom_post_grades"
Shift = Callable[[datetime, int], datetime]

# Each scheme's round this year, in calendar days around the seeding day: (opens, closes).
ROUNDS = {PF: (-16, 14), CORP: (-75, -25), POST: (-70, -30)}
# Every demo person's titles besides the post grade their `grade` column gives.
TITLES = {
    "cm01": f"{CORP}:客户经理", "cm02": f"{PF}:客户经理", "cm03": f"{CORP}:客户经理",
    "cm04": f"{CORP}:高级客户经理", "cm05": f"{PF}:客户经理",
    "cm06": f"{CORP}:助理客户经理;{PF}:客户经理", "cm07": f"{CORP}:客户经理",
    "cm08": f"{PF}:客户经理", "cm09": f"{CORP}:助理客户经理", "cm10": f"{PF}:客户经理",
    "cm11": f"{PF}:客户经理",
}
# Quarterly levels of the weighed year the corporate candidates' eligibility rests on.
LEVELS = {"cm09": [3, 3, 2, 3], "cm03": [1, 2, 1, 2], "cm07": [1, 1, 2, 3]}
GOOD_FACTS = {"good_conduct": True, "healthy": True, "education": "bachelor",
              "years_in_banking": 6, "years_in_private_finance": 3,
              "professional_title": "economist"}
COMMENTS = {
    "recommend": "工作业绩突出，客户评价良好，同意推荐。",
    "qualify": "经领导小组审定，资格合格。",
    "check": "材料齐全，符合条件，审核通过。",
    "decide": "行长室审定同意。",
    "approve": "同意。",
    "review": "经公司部审查，符合晋升条件。",
    "appoint": "按规定发文聘任。",
}
TEXTS = {
    "daily_performance": "全年出勤良好，日常营销记录完整。",
    "business_ability": "熟悉对公信贷和结算产品，能独立完成授信调查。",
    "marketing_results": "全年新增对公有效客户9户，存款日均新增6000万元。",
    "reason": "请补充近两年的客户营销明细后重新提交。",
}


@dataclass(frozen=True)
class DemoCase:
    """One case of the demo: whose, for what, started by whom, and how far it gets."""

    scheme: str
    person: str
    title: str
    steps: int  # steps taken after submission
    by: str = ""  # who nominates (empty: the person applies)
    outstanding: str = ""  # the outstanding contribution, for a skip-level or supervising step
    then: str = ""  # a last action that is not a step forward (send_back)


CASES = [
    # Private finance, the round open today: every step of both routes.
    DemoCase(PF, "tel01", "assistant_cm", 0),
    DemoCase(PF, "tel04", "assistant_cm", 1),
    DemoCase(PF, "tel05", "assistant_cm", 2),
    DemoCase(PF, "tel07", "assistant_cm", 0, then="send_back"),
    DemoCase(PF, "cm10", "senior_cm", 0,
             outstanding="引进私人银行客户金融资产2.3亿元，居全省第一。"),
    DemoCase(PF, "cm02", "senior_cm", 0),
    DemoCase(PF, "cm05", "senior_cm", 1),
    DemoCase(PF, "cm08", "senior_cm", 2),
    DemoCase(PF, "cm11", "senior_cm", 3),
    DemoCase(PF, "cm06", "senior_cm", 4),  # appointed; the filing notice waits to be read
    # Corporate, the round just closed: grade adjustment and entering the team.
    DemoCase(CORP, "cm09", "cm", 0),
    DemoCase(CORP, "cm03", "senior_cm", 1),
    DemoCase(CORP, "cm07", "senior_cm", 2),
    DemoCase(CORP, "tel02", "assistant_cm", 0, by="sup02"),
    DemoCase(CORP, "tel06", "assistant_cm", 1, by="sup06"),
    # Post grades, the round just closed.
    DemoCase(POST, "cm03", "grade_3", 0),
    DemoCase(POST, "cm08", "grade_1", 1),
]
# The staffing figures HR keeps for this year's quota (amounts in CNY; SMEs by credit line).
W = 10_000  # 万元
STAFFING = {
    "JC": {"asset_liability_size": 720_000 * W, "corporate_deposit_growth": 26_000 * W,
           "corporate_risk_asset_growth": 18_000 * W,
           "sme_credit_lines_start": [600 * W, 800 * W, 1_200 * W, 1_500 * W, 2_000 * W,
                                      500 * W, 900 * W, 1_100 * W, 3_000 * W, 300 * W],
           "sme_credit_lines_end": [600 * W, 800 * W, 1_200 * W, 1_500 * W, 2_000 * W,
                                    500 * W, 900 * W, 1_100 * W, 700 * W, 650 * W, 1_800 * W,
                                    1_000 * W, 550 * W, 1_300 * W, 900 * W, 760 * W, 1_900 * W,
                                    820 * W, 1_050 * W, 3_000 * W, 4_500 * W]},
    "HZ": {"asset_liability_size": 360_000 * W, "corporate_deposit_growth": 12_000 * W,
           "corporate_risk_asset_growth": 21_000 * W,
           "sme_credit_lines_start": [600 * W, 800 * W, 1_200 * W, 1_500 * W, 2_000 * W],
           "sme_credit_lines_end": [600 * W, 800 * W, 1_200 * W, 1_500 * W, 2_000 * W,
                                    700 * W, 900 * W, 1_600 * W, 520 * W, 2_500 * W]},
}
# Leaving the corporate customer-manager team: (person, proposed by, steps, reason).
EXITS = [("cm06", "sup04", 0, "post_change", "已调任营业部综合柜员岗位，不再从事对公营销。"),
         ("cm04", "sup02", 1, "own_request", "本人因家庭原因申请退出客户经理队伍。")]


def _person(session: Session, number: str) -> Person:
    return session.exec(select(Person).where(Person.employee_no == number)).one()


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 20), tzinfo=clock.zone())


def _working(day: date, step: int = 1) -> date:
    """The next working day (weekends skipped) `step` days on."""
    current = day
    for _ in range(step):
        current += timedelta(days=1)
        while current.weekday() >= 5:
            current += timedelta(days=1)
    return current


def _holder(session: Session, instance: WorkflowInstance) -> Person | None:
    """Someone who holds the step the case waits at (the first by employee number)."""
    task = session.exec(select(Task).where(Task.instance_id == instance.id,
                                           Task.status == TaskStatus.open)).first()
    if task is None:
        return None
    if task.assignee_id is not None:
        return session.get(Person, task.assignee_id)
    return session.exec(select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
                        .where(RoleAssignment.kind == task.group_kind,
                               RoleAssignment.name == task.group_name,
                               RoleAssignment.org_unit_id == task.org_unit_id)
                        .order_by(Person.employee_no)).first()


def _payload(spec: Any, transition: Any, day: date) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in transition.form:
        field = spec.fields[name]
        if field.type == "date":
            payload[name] = day.isoformat()
        elif name == "comment":
            payload[name] = COMMENTS.get(transition.trigger, "同意。")
        elif name in TEXTS:
            payload[name] = TEXTS[name]
        elif field.required:
            payload[name] = "同意。"
    return payload


def _advance(session: Session, registry: Registry, instance: WorkflowInstance, steps: int,
             day: date, then: str) -> date:
    """Take the case `steps` steps forward, one working day apart, then `then` if given."""
    spec = registry.compiled(session, instance.definition_id).spec
    for number in range(steps + (1 if then else 0)):
        day = _working(day)
        clock.freeze(_at(day, 10 + number % 6))
        actor = _holder(session, instance)
        if actor is None:
            return day
        options = spec.transitions_from(instance.state)
        trigger = then if number == steps else next(t.trigger for t in options if not t.optional)
        transition = next(t for t in options if t.trigger == trigger)
        runtime.fire(session, instance, trigger, actor, _payload(spec, transition, day),
                     registry=registry)
    return day


def _record_levels(session: Session, year: int) -> None:
    for number, levels in LEVELS.items():
        person = _person(session, number)
        for quarter, level in enumerate(levels, 1):
            assessments.record_quarter(session, person=person, actor=None, entry=QuarterlyEntry(
                year=year, quarter=quarter, level=level))


def seed_promotions(session: Session, registry: Registry, today: datetime) -> int:
    """This year's rounds and the demo's promotion cases and exits; how many were started."""
    rounds = {}
    for scheme_name, (opens, closes) in ROUNDS.items():
        scheme = get_scheme(scheme_name, registry)
        first, last = today.date() + timedelta(days=opens), today.date() + timedelta(days=closes)
        rounds[scheme_name] = schedule_round(session, scheme, year=first.year, opens_on=first,
                                             closes_on=last)
    clock.freeze(_at(rounds[CORP].opens_on, 9))
    _record_levels(session, rounds[CORP].assessment_year)
    started = 0
    for index, case in enumerate(CASES):
        round_ = rounds[case.scheme]
        day = _working(round_.opens_on, 1 + index % 3)
        clock.freeze(_at(day, 9 + index % 7))
        person = _person(session, case.person)
        request = promotions.apply(
            session, scheme=case.scheme, person=person,
            applicant=_person(session, case.by) if case.by else person,
            target_title=case.title, facts=GOOD_FACTS if case.scheme == PF else {},
            outstanding_contribution=bool(case.outstanding), justification=case.outstanding,
            registry=registry)
        instance = session.get(WorkflowInstance, request.instance_id)
        assert instance is not None
        _advance(session, registry, instance, case.steps, day, case.then)
        started += 1
    for index, (number, by, steps, reason, why) in enumerate(EXITS):
        day = _working(today.date() - timedelta(days=20), index * 2)
        clock.freeze(_at(day, 11))
        proposal = exits.propose_exit(
            session, scheme=CORP, route="team", person=_person(session, number),
            applicant=_person(session, by), reason=reason, explanation=why,
            proposed_date=today.date() + timedelta(days=30), registry=registry)
        instance = session.get(WorkflowInstance, proposal.instance_id)
        assert instance is not None
        _advance(session, registry, instance, steps, day, "")
        started += 1
    hr = _person(session, "hr01")
    for code, values in STAFFING.items():
        save_figures(session, scheme=CORP, branch_code=code, year=today.year, values=values,
                     actor=hr, registry=registry)
    return started
