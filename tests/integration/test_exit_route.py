"""Leaving the corporate customer-manager team (DOMAIN §4 A): the operating unit reports, the
provincial corporate department checks, the vice-president in charge approves, level by level;
the approval ends the person's title in the scheme from the approved date."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from app import clock
from app.engine import audit, runtime
from app.engine.registry import Registry
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.promotions import exits, grades, links
from app.promotions.models import ExitRequest, GradeHistory
from tests.promotion_helpers import act, instance_of, open_tasks, provincial_bank

CORP = "corporate_cm_2012"
TODAY = datetime(2026, 5, 12, 10)


@pytest.fixture
def org(db: Session, registry: Registry):
    b = provincial_bank(db)
    grades.hold_title(db, person=b.employee, scheme=CORP, title="senior_cm", on=date(2024, 1, 1))
    registry.sync(db)
    db.commit()
    clock.freeze(TODAY)
    return b


def propose(db: Session, org, **changes) -> ExitRequest:
    values = {"scheme": CORP, "route": "team", "person": org.employee, "applicant": org.manager,
              "reason": "assessment", "explanation": "连续两年考核不达标。",
              "proposed_date": date(2026, 6, 1), **changes}
    exit_ = exits.propose_exit(db, **values)
    db.commit()
    return exit_


def test_an_exit_goes_level_by_level_and_ends_the_title_from_the_approved_date(db, org) -> None:
    exit_ = propose(db, org)
    instance = instance_of(db, exit_)
    assert instance.workflow == "promotion_corp_team_exit" and instance.state == "corporate_check"
    assert {(t.group_kind, t.group_name, t.org_unit_id) for t in open_tasks(db, instance)} == {
        ("role", "corporate_department", org.province.id)}
    with pytest.raises(InvalidTransition):  # 逐级审批: the vice-president may not go first
        runtime.fire(db, instance, "approve", org.vice_president, {"effective_date": "2026-06-01"})
    db.rollback()
    act(db, instance, "check", org.corporate_reviewer, comment="情况属实")
    with pytest.raises(ValidationFailed) as caught:
        runtime.fire(db, instance, "approve", org.vice_president, {})
    assert "effective_date" in caught.value.field_errors
    db.rollback()
    act(db, instance, "approve", org.vice_president, effective_date="2026-06-15")
    assert [e.to_state for e in audit.trail(db, instance.id)] == [
        "applied", "corporate_check", "vice_president_approval", "left"]
    db.refresh(exit_)
    assert exit_.left_on == date(2026, 6, 15)
    assert grades.title_on(db, person_id=org.employee.id, scheme=CORP,
                           on=date(2026, 6, 14)) == "senior_cm"
    assert grades.title_on(db, person_id=org.employee.id, scheme=CORP,
                           on=date(2026, 6, 15)) is None
    last = db.exec(select(GradeHistory).where(GradeHistory.exit_id == exit_.id)).one()
    assert (last.title, last.previous_grade, last.source) == ("", "senior_cm", "exit")
    assert links.case_url(db, instance) == f"/promotions/exits/{exit_.id}#decide"


def test_only_the_operating_unit_may_report_an_exit(db, org) -> None:
    with pytest.raises(NotAllowed, match="only by nomination"):
        propose(db, org, applicant=org.employee)
    db.rollback()
    with pytest.raises(NotAllowed):
        propose(db, org, applicant=org.colleague)


def test_someone_without_a_title_cannot_leave_and_every_field_is_asked_for_at_once(db, org):
    with pytest.raises(NotAllowed, match="holds no title"):
        propose(db, org, person=org.colleague)
    db.rollback()
    with pytest.raises(ValidationFailed) as caught:
        propose(db, org, reason="bored", explanation=" ", proposed_date=date(2026, 5, 1))
    assert set(caught.value.field_errors) == {"reason", "explanation", "proposed_date"}


def test_one_exit_at_a_time(client, login, db, org) -> None:
    first = propose(db, org)
    with pytest.raises(InvalidTransition, match="already under way"):
        propose(db, org)
    db.rollback()
    login(client, org.manager)
    form = client.get(f"/promotions/exits/new?scheme={CORP}&person_id={org.employee.id}")
    assert 'action="/promotions/exits"' not in form.text  # not offered again
    assert f'href="/promotions/exits/{first.id}"' in form.text


def test_the_exit_page_offers_the_step_only_to_whoever_holds_it(client, login, csrf, db, org):
    exit_ = propose(db, org)
    login(client, org.employee)
    page = client.get(f"/promotions/exits/{exit_.id}?lang=en")
    assert page.status_code == 200 and 'id="decide"' not in page.text
    assert "Leaving the customer-manager team" in page.text
    assert "Senior customer manager" in page.text
    login(client, org.corporate_reviewer)
    page = client.get(f"/promotions/exits/{exit_.id}?lang=zh_CN")
    assert 'id="decide"' in page.text and "处理此事项" in page.text and "考核不达标" in page.text
    done = client.post(f"/promotions/exits/{exit_.id}/actions/check", data={
        "csrf_token": csrf(client), "expected_version": str(instance_of(db, exit_).version),
        "comment": "属实"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    db.expire_all()
    assert instance_of(db, exit_).state == "vice_president_approval"


def test_an_exit_through_the_api(client, login, csrf, org) -> None:
    login(client, org.manager)
    made = client.post("/api/promotions/exits", json={
        "scheme": CORP, "person_id": org.employee.id, "reason": "own_request",
        "explanation": "本人申请", "proposed_date": "2026-07-01"},
        headers={"X-CSRF-Token": csrf(client)})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["state"], body["current_title"], body["reason_label"]) == (
        "corporate_check", "senior_cm", "本人申请")
    assert [s["status"] for s in body["route"]][:2] == ["done", "current"]
    titles = client.get(f"/api/promotions/people/{org.employee.id}/titles",
                        headers={"Accept-Language": "en"}).json()
    assert [(t["scheme"], t["title"]) for t in titles] == [(CORP, "senior_cm")]
    assert [h["source"] for h in titles[0]["history"]] == ["import"]
    missing = client.post("/api/promotions/exits", json={
        "scheme": CORP, "person_id": org.colleague.id, "reason": "x", "explanation": "",
        "proposed_date": "2026-07-01"}, headers={"X-CSRF-Token": csrf(client)})
    assert missing.status_code == 403
