"""Directory sign-in against a real slapd: right and wrong passwords, unknown names, the
directory down or hanging, TLS, groups to roles, lockout and rate limits, API tokens."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import clock
from app.auth.models import SignInFailure
from app.org import service as org_service
from app.org.models import Person, RoleAssignment
from tests.directory_server import (
    ADMIN_GROUP,
    CHEN,
    GROUPS,
    HR_GROUP,
    LI,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    STRANGER,
    ZHANG,
)
from tests.factories import Bank, bank, person

MORNING = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)
WRONG = ("The user name or the password is not correct.", "用户名或密码不正确。")
OUTAGE = ("directory cannot be reached", "目录服务")


@pytest.fixture
def app_settings(app_settings, directory):  # noqa: ANN001, ANN201
    """The app asks the test directory: search with the service account, then bind."""
    app_settings.directory_url = directory.url
    app_settings.directory_search_base = PEOPLE
    app_settings.directory_bind_dn = SERVICE_DN
    app_settings.directory_bind_password = SERVICE_PASSWORD
    app_settings.directory_timeout_seconds = 2
    return app_settings


@dataclass
class People:
    """The small bank, and the database side of the directory's people."""

    bank: Bank
    zhang: Person
    li: Person
    chen: Person


@pytest.fixture
def people(db: Session, app) -> People:  # noqa: ANN001
    org = bank(db)
    found = []
    for entry in (ZHANG, LI, CHEN):
        row = person(db, org.sub_a, name=entry.uid)
        row.employee_no = entry.employee_no
        db.add(row)
        found.append(row)
    db.commit()
    return People(org, *found)


def sign_in(client: TestClient, csrf, name: str, password: str):  # noqa: ANN001, ANN201
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": csrf(client)}, follow_redirects=False)


def signed_in_as(client: TestClient) -> str | None:
    me = client.get("/api/me")
    return me.json()["employee_no"] if me.status_code == 200 else None


def shows(response, texts: tuple[str, ...]) -> bool:  # noqa: ANN001
    return any(text in response.text for text in texts)


@pytest.fixture
def directory_down(directory) -> Iterator[None]:  # noqa: ANN001
    """The directory server stops for the test and comes back afterwards."""
    directory.stop()
    try:
        yield
    finally:
        directory.start()


def test_directory_person_signs_in_with_the_directory_password(client, csrf, people) -> None:
    response = sign_in(client, csrf, ZHANG.uid, ZHANG.password)
    assert response.status_code == 303 and response.headers["location"] == "/tasks"
    assert signed_in_as(client) == ZHANG.employee_no


def test_wrong_directory_password_is_refused_and_counted(db, client, csrf, people) -> None:
    response = sign_in(client, csrf, ZHANG.uid, "not-" + ZHANG.password)
    assert response.status_code == 401 and shows(response, WRONG)
    assert signed_in_as(client) is None
    assert db.exec(select(SignInFailure.account)).all() == [ZHANG.uid]


def test_unknown_name_gets_the_same_answer_as_a_wrong_password(client, csrf, people) -> None:
    response = sign_in(client, csrf, "no.such.person", "whatever-password")
    assert response.status_code == 401 and shows(response, WRONG)


def test_directory_person_without_a_stepwise_profile_is_told_to_ask_hr(client, csrf,
                                                                        people) -> None:
    response = sign_in(client, csrf, STRANGER.uid, STRANGER.password)
    assert response.status_code == 401
    assert STRANGER.employee_no in response.text and signed_in_as(client) is None


def test_empty_password_never_becomes_an_anonymous_bind(client, csrf, people) -> None:
    response = sign_in(client, csrf, ZHANG.uid, "")
    assert response.status_code == 401 and signed_in_as(client) is None


def test_a_name_with_filter_characters_matches_nobody(client, csrf, people) -> None:
    for name in ("*", "zhang*", f"{ZHANG.uid})(uid=*"):
        response = sign_in(client, csrf, name, ZHANG.password)
        assert response.status_code == 401, name
    assert signed_in_as(client) is None


def test_directory_down_gives_a_clear_message_and_counts_no_failure(
        db, client, csrf, people, directory_down) -> None:
    response = sign_in(client, csrf, ZHANG.uid, ZHANG.password)
    assert response.status_code == 503 and shows(response, OUTAGE)
    assert 'name="username"' in response.text and ZHANG.uid in response.text  # form kept
    assert db.exec(select(SignInFailure)).all() == []


def test_administrator_breaks_glass_with_a_stepwise_password_while_the_directory_is_down(
        client, csrf, people, login, directory_down) -> None:
    login(client, people.bank.admin)  # not in the directory: its Stepwise password
    assert signed_in_as(client) == people.bank.admin.employee_no
    client.post("/logout", data={"csrf_token": csrf(client)})
    login_page = sign_in(client, csrf, people.bank.employee.employee_no, "demo")
    assert login_page.status_code == 503  # everyone else waits for the directory


def test_people_the_directory_does_not_know_use_their_stepwise_password(
        app, client, csrf, people, login) -> None:
    login(client, people.bank.employee)
    assert signed_in_as(client) == people.bank.employee.employee_no
    app.state.settings.directory_local_fallback = False
    client.post("/logout", data={"csrf_token": csrf(client)})
    response = sign_in(client, csrf, people.bank.employee.employee_no, "demo")
    assert response.status_code == 401


def test_a_directory_that_never_answers_times_out_with_the_outage_message(
        app, client, csrf, people) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app.state.settings.directory_url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        app.state.settings.directory_timeout_seconds = 1
        response = sign_in(client, csrf, ZHANG.uid, ZHANG.password)
    assert response.status_code == 503 and shows(response, OUTAGE)


def test_second_directory_server_is_used_when_the_first_is_down(app, client, csrf, people,
                                                                 directory) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    app.state.settings.directory_url = f"ldap://127.0.0.1:{dead} {directory.url}"
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 303


def test_bind_as_the_person_without_a_service_account(app, client, csrf, people) -> None:
    settings = app.state.settings
    settings.directory_bind_dn = settings.directory_bind_password = ""
    settings.directory_search_base = ""
    settings.directory_user_dn_template = f"uid={{username}},{PEOPLE}"
    assert sign_in(client, csrf, LI.uid, "wrong-" + LI.password).status_code == 401
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 303
    assert signed_in_as(client) == LI.employee_no


@pytest.mark.parametrize("how", ["starttls", "ldaps"])
def test_tls_to_the_directory_checks_its_certificate(app, client, csrf, people, directory,
                                                     how: str) -> None:
    settings = app.state.settings
    settings.directory_url = directory.url if how == "starttls" else directory.tls_url
    settings.directory_start_tls = how == "starttls"
    # Without the bank's CA the certificate is not trusted: refused, like an outage.
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 503
    settings.directory_ca_file = str(directory.ca_file)
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 303
    assert signed_in_as(client) == LI.employee_no


def seats(db: Session, someone: Person) -> set[tuple[str, str, int]]:
    db.expire_all()
    return {(r.kind, r.name, r.org_unit_id) for r in db.exec(
        select(RoleAssignment).where(RoleAssignment.person_id == someone.id))}


@pytest.mark.parametrize("groups_from", ["memberOf", "group search"])
def test_directory_groups_give_and_take_the_mapped_roles(app, db, client, csrf, people,
                                                         groups_from: str) -> None:
    branch_a, branch_b = people.bank.branch_a, people.bank.branch_b
    if groups_from == "group search":  # groupOfNames members instead of the memberOf overlay
        app.state.settings.directory_group_search_base = GROUPS
    app.state.settings.directory_group_roles = {
        HR_GROUP.upper(): f"role:hr@{branch_b.code}",  # DNs compare without case
        ADMIN_GROUP: "admin",
        f"cn=nobody,{PEOPLE}": f"role:hr@{branch_a.code}",
    }
    org_service.assign(db, person=people.zhang, kind="role", name="hr", unit=branch_a)
    org_service.assign(db, person=people.zhang, kind="committee", name="leadership_group",
                       unit=branch_a)
    people.zhang.is_admin = True
    db.add(people.zhang)
    db.commit()
    assert sign_in(client, csrf, ZHANG.uid, ZHANG.password).status_code == 303
    assert seats(db, people.zhang) == {("role", "hr", branch_b.id),  # from the group
                                       ("committee", "leadership_group", branch_a.id)}  # kept
    assert db.get(Person, people.zhang.id).is_admin is False  # not in the admins group
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert sign_in(client, csrf, CHEN.uid, CHEN.password).status_code == 303
    assert db.get(Person, people.chen.id).is_admin is True
    if groups_from == "group search":  # the search decides: one that finds no group
        app.state.settings.directory_group_filter = "(member=cn=nobody)"
        client.post("/logout", data={"csrf_token": csrf(client)})
        assert sign_in(client, csrf, ZHANG.uid, ZHANG.password).status_code == 303
        assert ("role", "hr", branch_b.id) not in seats(db, people.zhang)


def test_lockout_and_rate_limits_hold_for_directory_names(app, client, csrf, people) -> None:
    clock.freeze(MORNING)
    settings = app.state.settings
    settings.lockout_account_failures = 2
    for _ in range(2):
        assert sign_in(client, csrf, ZHANG.uid, "wrong").status_code == 401
    assert sign_in(client, csrf, ZHANG.uid, ZHANG.password).status_code == 429
    clock.advance(timedelta(seconds=settings.lockout_window_seconds + 1))
    settings.rate_limit_sign_in_per_minute = 1
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 303
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 429


def test_directory_person_mints_an_api_token_that_works_while_the_directory_is_down(
        app, client, csrf, people, directory) -> None:
    assert sign_in(client, csrf, LI.uid, LI.password).status_code == 303
    page = client.post("/account/tokens", data={"name": "nightly export", "scope": "read",
                                                "csrf_token": csrf(client)})
    secret = re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)
    directory.stop()
    try:
        with TestClient(app, base_url="http://testserver") as script:
            me = script.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 200 and me.json()["employee_no"] == LI.employee_no
            wrong = script.get("/api/me", headers={"Authorization": "Bearer sw_not-a-token"})
            assert wrong.status_code == 401
    finally:
        directory.start()


def test_sign_in_page_asks_for_the_directory_name(client) -> None:
    page = client.get("/login?lang=en")
    assert "Directory user name" in page.text and "/password/forgot" not in page.text

