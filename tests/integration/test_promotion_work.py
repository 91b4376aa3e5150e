"""A promotion step in My work: the verb with whose application for which title, opening the
case at that action, with the application's facts beside the decision."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest

from app import clock
from tests.promotion_helpers import GOOD_FACTS, provincial_bank

IN_PF_WINDOW = datetime(2026, 3, 10, 10, 0)
ROW = re.compile(r'data-form="([^"]*)">\s*<a class="work-link" href="([^"]+)">\s*'
                 r'<span class="work-what">([^<]+)</span>')


@pytest.fixture
def org(db):
    b = provincial_bank(db)
    b.employee_b.grade = "cm"
    db.commit()
    clock.freeze(IN_PF_WINDOW)
    return b


def test_the_recommending_department_sees_whose_application_and_decides_beside_it(
        client, csrf, login, org) -> None:
    login(client, org.employee_b)
    applied = client.post("/api/promotions/requests", headers={"X-CSRF-Token": csrf(client)},
                          json={"scheme": "bocom_private_finance_2002",
                                "target_title": "senior_cm", "facts": GOOD_FACTS})
    assert applied.status_code == 201, applied.text
    case = applied.json()
    client.post("/logout", data={"csrf_token": csrf(client)})

    login(client, org.branch_pf)
    [(form, href, what)] = ROW.findall(client.get("/tasks").text)
    name = org.employee_b.name
    assert what == f"推荐：{name}的高级客户经理申请"
    assert (form, html.unescape(href)) == (
        "action-recommend", f"/instances/{case['instance_id']}?do=action-recommend")
    page = client.get(html.unescape(href)).text
    facts = page.index('id="content-signed"')
    assert facts < page.index('id="action-recommend"')
    shown = page[facts:page.index('id="action-recommend"')]
    assert name in shown and "高级客户经理" in shown
    assert "资格审查" in shown or "Qualification" in shown  # the screening, rule by rule
    assert f'href="/promotions/cases/{case["id"]}"' in page
