"""Promotion pages and JSON API: eligibility, applying, the queue, the case route, HR's round."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest

from app import clock
from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.promotions import service
from app.promotions.grades import hold_title
from tests.promotion_helpers import GOOD_FACTS, provincial_bank, quarters

IN_PF_WINDOW = datetime(2026, 3, 10, 10, 0)


@pytest.fixture
def org(db):
    b = provincial_bank(db)
    hold_title(db, person=b.employee_b, scheme="bocom_private_finance_2002", title="cm",
               on=date(2024, 1, 1))
    db.commit()
    clock.freeze(IN_PF_WINDOW)
    return b


def api_apply(client, csrf, **body):
    """Apply through the API, based on the list of my cases as it is now."""
    mine = client.get("/api/promotions/requests").headers["ETag"]
    return client.post("/api/promotions/requests", json=body,
                       headers={"X-CSRF-Token": csrf(client), "If-Match": mine})


def test_my_eligibility_page_lists_titles_with_reasons_and_why_not(client, login, db, org):
    quarters(db, org.employee, 2026, [1, 2, 2, 5])  # weighed by the next (2027) round
    db.commit()
    login(client, org.employee)
    page = client.get("/promotions?lang=en")
    assert page.status_code == 200
    corporate = page.text[page.text.index('id="scheme-corporate_cm_2012"'):]
    assert "Level 5 may only be promoted to assistant" in corporate
    assert "A.4" in corporate and "Eligibility opens the evaluation" in page.text


def test_the_eligibility_api_cites_the_rules(client, login, db, org):
    quarters(db, org.employee, 2025, [1, 1, 3, 3])
    db.commit()
    login(client, org.employee)
    body = client.get("/api/promotions/eligibility",
                      params={"scheme": "corporate_cm_2012", "year": 2025}).json()
    verdicts = {t["name"]: t for t in body["titles"]}
    assert verdicts["senior_cm"]["eligible"] is True
    assert verdicts["chief_cm"]["eligible"] is False
    assert [c["rule"] for c in verdicts["chief_cm"]["why_not"]] == ["A.1", "A.1"]


def test_someone_else_s_eligibility_is_not_visible_to_a_colleague(client, login, org):
    login(client, org.colleague)
    response = client.get("/api/promotions/eligibility",
                          params={"scheme": "corporate_cm_2012", "person_id": org.employee.id})
    assert response.status_code == 404


def test_apply_through_the_api_then_act_and_see_the_route(client, csrf, login, db, org):
    login(client, org.employee_b)
    response = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                         target_title="senior_cm", facts=GOOD_FACTS)
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["state"] == "recommendation"
    assert [s["status"] for s in case["route"]][:3] == ["done", "current", "pending"]
    assert case["route"][-1]["blocking"] is False
    client.post("/logout", data={"csrf_token": csrf(client)})

    login(client, org.branch_pf)
    queue = client.get("/api/promotions/queue").json()
    assert [q["request_id"] for q in queue] == [case["id"]]
    acted = client.post(f"/api/instances/{case['instance_id']}/actions/recommend",
                        json={"payload": {}},
                        headers={"X-CSRF-Token": csrf(client),
                                 "If-Match": f'"{case["version"]}"'})
    assert acted.status_code == 200, acted.text
    again = client.get(f"/api/promotions/requests/{case['id']}").json()
    assert again["state"] == "leadership_check"
    page = client.get(f"/promotions/cases/{case['id']}?lang=en")
    current = re.search(r'<li class="step step-current[^"]*" aria-current="step">\s*'
                        r'<span class="step-label">([^<]+)</span>', page.text)
    assert current and current.group(1) == "Leadership group checks"


def test_a_refused_application_answers_with_the_reason(client, csrf, login, org):
    login(client, org.employee_b)
    response = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                         target_title="senior_cm", facts={**GOOD_FACTS, "education": "secondary"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"exception_q3"}
    clock.freeze(datetime(2026, 6, 1, 9))
    login(client, org.employee_b)  # a session does not last three months: sign in again
    closed = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                       target_title="senior_cm", facts=GOOD_FACTS)
    assert closed.status_code == 403
    assert "2027-03-01" in closed.json()["detail"]


def test_the_apply_form_shows_errors_next_to_the_fields(client, csrf, login, org):
    login(client, org.employee_b)
    form = client.get("/promotions/apply?scheme=bocom_private_finance_2002&lang=en")
    assert form.status_code == 200 and 'name="fact_education"' in form.text
    response = client.post("/promotions/apply", data={
        "csrf_token": csrf(client), "scheme": "bocom_private_finance_2002",
        "person_id": str(org.employee_b.id), "target_title": "senior_cm",
        "fact_good_conduct": "true", "fact_healthy": "true", "fact_education": "secondary",
        "fact_years_in_banking": "5", "fact_years_in_private_finance": "1",
        "fact_professional_title": "economist"})
    assert response.status_code == 422
    assert 'id="f-exception_q3-error"' in response.text
    response = client.post("/promotions/apply", data={
        "csrf_token": csrf(client), "scheme": "bocom_private_finance_2002",
        "person_id": str(org.employee_b.id), "target_title": "senior_cm",
        "fact_good_conduct": "true", "fact_healthy": "true", "fact_education": "secondary",
        "fact_years_in_banking": "5", "fact_years_in_private_finance": "1",
        "fact_professional_title": "economist", "exception_q3": "自学考试在读"},
        follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/promotions/cases/")


def test_hr_sees_the_round_page_and_an_employee_does_not(client, csrf, login, org):
    login(client, org.employee_b)
    case = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                     target_title="senior_cm", facts=GOOD_FACTS).json()
    assert client.get("/promotions/rounds").status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client)})
    login(client, org.branch_hr)
    rounds = client.get("/api/promotions/rounds").json()
    assert len(rounds) == 1
    page = client.get(f"/promotions/rounds/{rounds[0]['id']}?lang=en")
    assert page.status_code == 200
    assert f'href="/promotions/cases/{case["id"]}"' in page.text
    assert "Private-finance department recommends" in page.text
    body = client.get(f"/api/promotions/rounds/{rounds[0]['id']}").json()
    assert [c["state"] for c in body["cases"]] == ["recommendation"]


def test_the_openapi_document_describes_the_promotion_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/promotions/eligibility", "/api/promotions/requests",
            "/api/promotions/queue", "/api/promotions/rounds/{round_id}"} <= set(paths)


def test_the_pages_read_in_chinese(client, login, org):
    login(client, org.employee_b)
    page = client.get("/promotions?lang=zh_CN")
    assert "交通银行私人金融客户经理（2002）" in page.text


def test_head_office_sees_the_filing_notice_and_acknowledges_it(client, csrf, login, db, org):
    request = service.apply(db, scheme="bocom_private_finance_2002", person=org.employee_b,
                            applicant=org.employee_b, target_title="senior_cm",
                            facts=GOOD_FACTS)
    instance = db.get(WorkflowInstance, request.instance_id)
    for trigger, actor, payload in (("recommend", org.branch_pf, {}),
                                    ("check", org.branch_leader, {}),
                                    ("decide", org.branch_president, {}),
                                    ("appoint", org.branch_hr, {"issue_date": "2026-03-10"})):
        runtime.fire(db, instance, trigger, actor, payload)
    db.commit()
    login(client, org.filer)
    page = client.get("/promotions/queue?lang=en")
    assert "Filing notices (for information)" in page.text
    assert "Senior customer manager" in page.text
    notice = client.get("/api/promotions/filings").json()[0]
    response = client.post(f"/promotions/filings/{notice['id']}/acknowledge",
                           data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/promotions/filings").json() == []


# --- issue 15: promotion pages lead to the next action ---------------------------------------

KEYS = ("bocom_private_finance_2002", "corporate_cm_2012", "bocom_post_grades",
        "promotion_pf_senior", "promotion_pf_junior", "senior_cm", "assistant_cm", "grade_3",
        "trainee", "chief_cm", "private_finance_department", "leadership_group")


def visible(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    body = html.split("<main", 1)[-1]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_a_window_not_yet_open_says_when_it_opens_and_offers_no_form(client, csrf, login, db,
                                                                     org) -> None:
    clock.freeze(datetime(2026, 2, 20, 10))
    login(client, org.employee_b)
    mine = client.get("/promotions?lang=en")
    private = mine.text[mine.text.index('id="scheme-bocom_private_finance_2002"'):]
    assert "opens on Mar 1, 2026" in private and "closed" not in private.split("</section>")[0]
    assert 'href="/promotions/apply?scheme=bocom_private_finance_2002"' not in mine.text
    form = client.get("/promotions/apply?scheme=bocom_private_finance_2002&lang=en")
    assert form.status_code == 200
    assert 'action="/promotions/apply"' not in form.text
    assert "This round opens on Mar 1, 2026 and closes on Mar 31, 2026." in form.text
    refused = client.post("/promotions/apply", data={
        "csrf_token": csrf(client), "scheme": "bocom_private_finance_2002",
        "person_id": str(org.employee_b.id), "target_title": "senior_cm"})
    assert refused.status_code == 403
    assert client.get("/api/promotions/requests").json() == []


def test_eligibility_reasons_are_plain_sentences_citing_the_rule(client, login, org) -> None:
    login(client, org.employee)
    en = visible(client.get("/promotions?lang=en").text)
    assert "§3 Targets not met: only appoint lower or dismiss" in en
    assert "No “Targets met” is recorded for 2025. So the rule does not apply." in en
    assert "required" not in en and " = " not in en
    org.employee.locale = "zh_CN"
    zh = visible(client.get("/promotions?lang=zh_CN").text)
    assert "2025年未记录“完成考核指标”。 因此本条不适用。" in zh
    assert "要求 =" not in zh and "为 未录入" not in zh


def test_the_decision_stands_beside_the_facts_and_only_for_whoever_may_take_it(
    client, csrf, login, db, org
) -> None:
    login(client, org.employee_b)
    case = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                     target_title="senior_cm", facts=GOOD_FACTS).json()
    own = client.get(f"/promotions/cases/{case['id']}?lang=zh_CN")
    assert 'id="decide"' not in own.text and "办理此案" not in own.text
    assert "处理此申请" not in own.text
    login(client, org.branch_pf)
    page = client.get(f"/promotions/cases/{case['id']}?lang=zh_CN")
    decide = page.text[page.text.index('id="decide"'):page.text.index("</section>",
                                                                       page.text.index(
                                                                           'id="decide"'))]
    assert "处理此申请" in decide and "决定依据" in decide
    assert "最高学历" in decide and "本科" in decide and 'id="action-recommend"' in decide
    moved = client.post(f"/promotions/cases/{case['id']}/actions/recommend", data={
        "csrf_token": csrf(client), "expected_version": str(case["version"] + 1),
        "comment": "同意推荐"}, follow_redirects=False)
    assert moved.status_code in (303, 409), moved.text
    if moved.status_code == 409:  # the version on the page is the one to send back
        version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)
        moved = client.post(f"/promotions/cases/{case['id']}/actions/recommend", data={
            "csrf_token": csrf(client), "expected_version": version, "comment": "同意推荐"},
            follow_redirects=False)
    assert moved.status_code == 303
    assert client.get(f"/api/promotions/requests/{case['id']}").json()["state"] == (
        "leadership_check")


def test_no_page_shows_an_internal_key(client, csrf, login, org) -> None:
    login(client, org.employee_b)
    case = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                     target_title="senior_cm", facts=GOOD_FACTS).json()
    pages = ["/promotions", "/promotions/apply?scheme=bocom_private_finance_2002",
             f"/promotions/cases/{case['id']}"]
    for lang in ("en", "zh_CN"):
        for path in pages:
            text = visible(client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}").text)
            assert not [k for k in KEYS if k in text], (path, lang)
    login(client, org.branch_hr)
    for path in ["/promotions/queue", "/promotions/rounds",
                 f"/promotions/rounds/{client.get('/api/promotions/rounds').json()[0]['id']}",
                 f"/promotions/cases/{case['id']}"]:
        text = visible(client.get(path).text)
        assert not [k for k in KEYS if k in text], path


WORK_ROW = re.compile(r'data-form="([^"]*)">\s*<a class="work-link" href="([^"]+)">\s*'
                      r'<span class="work-what">([^<]+)</span>')


def test_the_recommending_department_sees_whose_application_and_decides_beside_it(
        client, csrf, login, org) -> None:
    login(client, org.employee_b)
    applied = api_apply(client, csrf, scheme="bocom_private_finance_2002",
                        target_title="senior_cm", facts=GOOD_FACTS)
    assert applied.status_code == 201, applied.text
    case = applied.json()
    client.post("/logout", data={"csrf_token": csrf(client)})

    login(client, org.branch_pf)
    [(form, href, what)] = WORK_ROW.findall(client.get("/tasks").text)
    name = org.employee_b.name
    assert what == f"推荐：{name}的高级客户经理申请"
    # the row opens the application's own page at the decision it names
    assert (form, html.unescape(href)) == (
        "action-recommend", f"/promotions/cases/{case['id']}?do=action-recommend#decide")
    page = client.get(html.unescape(href).split("#")[0]).text
    facts = page.index('class="decide-facts decision-content"')
    assert facts < page.index('id="action-recommend"')
    shown = page[page.index("<main"):page.index('id="action-recommend"')]
    assert name in shown and "高级客户经理" in shown
    assert "资格审查" in shown or "Qualification" in shown  # the screening, rule by rule
    # the generic case page still leads to the application, with its facts beside the buttons
    generic = client.get(f"/instances/{case['instance_id']}?do=action-recommend").text
    assert generic.index('id="content-signed"') < generic.index('id="action-recommend"')
    assert f'href="/promotions/cases/{case["id"]}"' in generic
