"""Every HTML form endpoint answers junk with a page, never a server error."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session

from app.plans import service
from app.plans.schemas import GapDraft
from tests.factories import bank

JUNK = [
    {},
    {"title": "x" * 5000, "expected_version": "abc", "employee_id": "-1", "chosen": "maybe",
     "due_on": "2027-02-30", "target": "NaN", "baseline": "1e999", "year": "99999999999999999999",
     "quarter": "9", "level": "\x00", "scope": "root", "name": "<script>", "password": "p",
     "repeat": "q", "daily_digest": "perhaps", "included": "?", "person_id": str(2**70)},
    {"requirement": "要求", "actual": "实际", "expected_version": str(2**70), "page": "-5",
     "cycle": "0", "org_unit_id": "x", "starts_on": "tomorrow", "ends_on": "", "reason": ""},
]


@pytest.fixture
def people(db: Session, app):
    org = bank(db)
    db.commit()
    return org


def form_routes(app) -> list[str]:  # noqa: ANN001
    """Paths of every non-API POST route, with 1 for each path parameter."""
    paths = []
    for route in app.routes:
        if isinstance(route, APIRoute) and "POST" in route.methods and not route.path.startswith(
                "/api"):
            paths.append(re.sub(r"\{[^}]+\}", "1", route.path))
    return sorted(set(paths))


def test_every_form_answers_junk_without_a_server_error(db, app, client, login, people,
                                                         csrf) -> None:
    service.start_plan(db, employee=people.employee, initiator=people.employee, title="计划",
                       gaps=[GapDraft(requirement="要求", actual="实际")])
    db.commit()
    for person in (people.employee, people.hr_a, people.admin):
        client.cookies.clear()
        login(client, person)
        token = csrf(client)
        for path in form_routes(app):
            if path in ("/logout",):
                continue
            for junk in JUNK:
                answer = client.post(path, data={**junk, "csrf_token": token},
                                     follow_redirects=False)
                assert answer.status_code < 500, (person.employee_no, path, junk, answer.text)
