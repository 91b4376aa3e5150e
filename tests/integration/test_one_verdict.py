"""One verdict (DOMAIN §3, §4): what the eligibility answer says is possible is what an
application accepts, and it lists every requirement still unmet at once; skip-level is each
scheme's own rule; someone further down a route hears "not your step yet"."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import Session

from app import clock
from app.engine.registry import Registry
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.promotions import grades
from app.promotions import service as promotions
from app.promotions.eligibility import add_round_needs, application_kind, eligibility
from tests.promotion_helpers import GOOD_FACTS, flag, instance_of, provincial_bank, quarters

PF, CORP, POST = "bocom_private_finance_2002", "corporate_cm_2012", "bocom_post_grades"
IN_PF_WINDOW = datetime(2026, 3, 10, 10)
IN_CORP_WINDOW = datetime(2026, 1, 20, 10)


@pytest.fixture
def org(db: Session, registry: Registry):
    b = provincial_bank(db)
    registry.sync(db)
    db.commit()
    return b


def verdict(db: Session, who, scheme: str, title: str, by=None):  # noqa: ANN001, ANN201
    found = eligibility(db, person=who, scheme=scheme, year=2025)
    add_round_needs(db, found, who, application_kind(db, who, by or who))
    return found.verdict(title)


def test_what_eligibility_allows_the_application_accepts_for_a_chief_evaluation(db, org):
    """§4 A: four level-1 quarters and a major marketing achievement open the chief
    evaluation, straight from assistant: titles are rated, not climbed (no skip-level)."""
    clock.freeze(IN_CORP_WINDOW)
    grades.hold_title(db, person=org.employee, scheme=CORP, title="assistant_cm",
                      on=date(2024, 1, 1))
    quarters(db, org.employee, 2025, [1, 1, 1, 1])
    flag(db, org.employee, 2025, "major_marketing_achievement", by=org.manager)
    db.commit()
    chief = verdict(db, org.employee, CORP, "chief_cm")
    assert (chief.eligible, chief.skip_level, chief.may_apply, chief.missing) == (
        True, False, True, [])
    request = promotions.apply(db, scheme=CORP, person=org.employee, applicant=org.employee,
                               target_title="chief_cm")
    assert (request.target_title, request.skip_level) == ("chief_cm", False)


def test_eligibility_lists_every_skip_level_need_and_the_application_refuses_exactly_those(
    db, org
) -> None:
    """§3 / §4 C: 越级高聘 only for an outstanding contribution with a written justification."""
    clock.freeze(IN_PF_WINDOW)
    grades.hold_title(db, person=org.employee_b, scheme=PF, title="assistant_cm",
                      on=date(2024, 1, 1))
    db.commit()
    senior = verdict(db, org.employee_b, PF, "senior_cm")
    assert (senior.eligible, senior.skip_level, senior.may_apply) == (True, True, False)
    assert [(n.key, n.field) for n in senior.missing] == [
        ("skip_level", "outstanding_contribution"), ("justification", "justification")]
    with pytest.raises(ValidationFailed) as caught:
        promotions.apply(db, scheme=PF, person=org.employee_b, applicant=org.employee_b,
                         target_title="senior_cm", facts={"healthy": False})
    db.rollback()
    assert {"outstanding_contribution", "justification", "fact_education"} <= set(
        caught.value.field_errors)  # facts and skip-level needs, all at once
    flag(db, org.employee_b, 2025, "outstanding_contribution", by=org.manager_b,
         justification="全年引进高端客户40户")
    db.commit()
    assert verdict(db, org.employee_b, PF, "senior_cm").may_apply is True


def test_a_first_appointment_is_skip_level_only_where_the_scheme_says_so(db, org) -> None:
    """§4 C: a newcomer may apply for assistant CM or CM; senior straight away skips. Post
    grades (§4 B): a first appointment follows the assessment, at any grade."""
    clock.freeze(IN_PF_WINDOW)
    assert verdict(db, org.employee_b, PF, "cm").skip_level is False
    assert verdict(db, org.employee_b, PF, "senior_cm").skip_level is True
    assert verdict(db, org.employee_b, POST, "grade_1").skip_level is False


def test_outside_the_window_every_need_is_listed_at_once(db, org) -> None:
    clock.freeze(datetime(2026, 2, 10, 9))
    grades.hold_title(db, person=org.employee_b, scheme=PF, title="assistant_cm",
                      on=date(2024, 1, 1))
    senior = verdict(db, org.employee_b, PF, "senior_cm")
    assert [n.key for n in senior.missing] == ["window", "skip_level", "justification"]
    with pytest.raises(NotAllowed) as caught:
        promotions.apply(db, scheme=PF, person=org.employee_b, applicant=org.employee_b,
                         target_title="senior_cm", facts=GOOD_FACTS)
    text = caught.value.text()
    assert "Applications open on 2026-03-01 and close on 2026-03-31." in text
    assert "Write the justification of the outstanding contribution." in text


def test_who_may_start_it_is_part_of_the_verdict(db, org) -> None:
    """§4 A: entering the corporate CM team is submitted by the operating unit."""
    clock.freeze(IN_CORP_WINDOW)
    own = verdict(db, org.employee, CORP, "assistant_cm")
    assert [n.key for n in own.missing] == ["kind"]
    assert verdict(db, org.employee, CORP, "assistant_cm", by=org.manager).may_apply is True


def test_an_approver_whose_step_has_not_come_hears_so(client, login, csrf, db, org) -> None:
    clock.freeze(IN_PF_WINDOW)
    grades.hold_title(db, person=org.employee_b, scheme=PF, title="cm", on=date(2024, 1, 1))
    request = promotions.apply(db, scheme=PF, person=org.employee_b, applicant=org.employee_b,
                               target_title="senior_cm", facts=GOOD_FACTS)
    db.commit()
    instance = instance_of(db, request)
    login(client, org.branch_president)
    acted = client.post(f"/api/instances/{instance.id}/actions/decide",
                        json={"payload": {}},
                        headers={"X-CSRF-Token": csrf(client), "Accept-Language": "zh-CN",
                                 "If-Match": f'"{instance.version}"'})
    assert acted.status_code == 409, acted.text
    assert acted.json()["detail"] == ("此事项尚未到您办理的步骤：目前处于“分行私金部推荐”，"
                                      "您办理的是“行长室审定”。")  # in the request's language
    page = client.get(f"/promotions/cases/{request.id}")
    assert page.status_code == 200 and 'id="decide"' not in page.text  # sees, cannot act yet
    login(client, org.branch_leader)  # on the route, outside the supervisor chain
    later = client.get(f"/promotions/cases/{request.id}")
    assert later.status_code == 409 and "此事项尚未到您办理的步骤" in later.text
    login(client, org.colleague)  # someone not on the route still finds nothing
    assert client.get(f"/promotions/cases/{request.id}").status_code == 404
    with pytest.raises(InvalidTransition):
        from app.instances.service import take_action

        take_action(db_session=db, person=org.branch_president, instance_id=instance.id,
                    trigger="decide", payload={}, expected_version=None, on_behalf_of_id=None)


def test_an_assessment_year_out_of_range_is_refused(client, login, org, db) -> None:
    login(client, org.province_hr)
    for path in (f"/api/assessments/people/{org.employee.id}/outcomes/99999",
                 f"/api/assessments/people/{org.employee.id}/stars/1999"):
        answer = client.get(path, headers={"Accept-Language": "en"})
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["errors"]["year"] in ("At most 2100.", "At least 2000.")
