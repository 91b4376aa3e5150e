"""Assessment pages and JSON API: entry forms, CSV upload with per-line errors, stars."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.assessments.models import QuarterlyAssessment
from tests.factories import bank


@pytest.fixture
def org(db):
    b = bank(db)
    db.commit()
    return b


def test_hr_records_a_level_through_the_form_and_sees_it(client, csrf, login, db, org):
    login(client, org.hr_a)
    page = client.get(f"/assessments/people/{org.employee.id}?lang=en")
    assert page.status_code == 200 and 'id="form-quarter"' in page.text
    response = client.post(f"/assessments/people/{org.employee.id}/quarters", data={
        "csrf_token": csrf(client), "year": "2025", "quarter": "2", "level": "3"},
        follow_redirects=False)
    assert response.status_code == 303
    assert [(q.quarter, q.level) for q in db.exec(select(QuarterlyAssessment))] == [(2, 3)]


def test_a_bad_level_is_shown_next_to_its_field(client, csrf, login, org):
    login(client, org.hr_a)
    response = client.post(f"/assessments/people/{org.employee.id}/quarters?lang=en", data={
        "csrf_token": csrf(client), "year": "2025", "quarter": "2", "level": "7"})
    assert response.status_code == 422
    assert 'id="f-level-error"' in response.text


def test_an_employee_sees_their_own_results_without_entry_forms(client, login, org):
    login(client, org.employee)
    page = client.get("/assessments", follow_redirects=True)
    assert page.status_code == 200
    assert 'id="form-quarter"' not in page.text
    assert client.get(f"/assessments/people/{org.colleague.id}").status_code == 404


def test_a_csv_upload_with_a_bad_line_lists_it_and_imports_nothing(client, csrf, login, db, org):
    login(client, org.hr_a)
    text = (f"employee_no,year,quarter,level\n{org.employee.employee_no},2025,1,2\n"
            f"NOBODY,2025,1,2\n").encode()
    response = client.post("/api/assessments/import/quarterly", files={
        "file": ("levels.csv", text, "text/csv")}, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] is False and body["total"] == 0
    assert body["rejected"] == [{"line": 3, "problem": "no one with employee number 'NOBODY' "
                                                       "whose results you may record"}]
    assert db.exec(select(QuarterlyAssessment)).all() == []
    page = client.post("/assessments/import?lang=en", data={"csrf_token": csrf(client),
                                                             "kind": "quarterly"},
                       files={"file": ("levels.csv", text, "text/csv")})
    assert page.status_code == 400 and "no one with employee number" in page.text


def test_a_good_csv_upload_reports_what_it_did(client, csrf, login, org):
    login(client, org.hr_a)
    text = f"employee_no,year,quarter,level\n{org.employee.employee_no},2025,1,5\n".encode()
    body = client.post("/api/assessments/import/quarterly", files={
        "file": ("levels.csv", text, "text/csv")}, headers={"X-CSRF-Token": csrf(client)}).json()
    assert (body["created"], body["plans_opened"]) == (1, 1)


def record_etag(client, person) -> str:
    """The ETag of a person's assessment record: what a write to it is based on."""
    return client.get(f"/api/assessments/people/{person.id}").headers["ETag"]


def test_the_star_rating_api_explains_the_band(client, csrf, login, org):
    login(client, org.hr_a)
    put = client.put(f"/api/assessments/people/{org.employee.id}/annual", json={
        "year": 2025, "targets_met": True, "metrics": {
            "maturing_loan_collection": 99, "interest_collection": 98,
            "annual_interest_income": 1_000_000, "avg_daily_deposits": 5_000_000,
            "avg_monthly_loans": 8_999_999}},
        headers={"X-CSRF-Token": csrf(client), "If-Match": record_etag(client, org.employee)})
    assert put.status_code == 200, put.text
    assert put.headers["ETag"] == record_etag(client, org.employee)
    stars = client.get(f"/api/assessments/people/{org.employee.id}/stars/2025?lang=en").json()
    assert stars["stars"] == 3
    assert [c["metric"] for c in stars["deciding"]] == ["avg_monthly_loans"]
    assert stars["explanation"][1] == "Not 4 stars, because:"


def test_the_outcome_api_refuses_what_missed_targets_forbid(client, csrf, login, org):
    login(client, org.hr_a)
    headers = {"X-CSRF-Token": csrf(client)}
    put = client.put(f"/api/assessments/people/{org.employee.id}/annual",
                     json={"year": 2025, "targets_met": False},
                     headers={**headers, "If-Match": record_etag(client, org.employee)})
    allowed = client.get(f"/api/assessments/people/{org.employee.id}/outcomes/2025").json()
    assert allowed == ["appoint_lower", "dismiss"]
    stale = client.post(f"/api/assessments/people/{org.employee.id}/outcome",
                        json={"year": 2025, "outcome": "dismiss"},
                        headers={**headers, "If-Match": '"an-older-record"'})
    assert stale.status_code == 412
    refused = client.post(f"/api/assessments/people/{org.employee.id}/outcome?lang=en",
                          json={"year": 2025, "outcome": "renew"},
                          headers={**headers, "If-Match": put.headers["ETag"]})
    assert refused.status_code == 422
    assert "Appoint lower, Dismiss" in refused.json()["detail"]
