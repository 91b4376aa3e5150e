"""Report pages and API: charts with tables in both languages, scope, actions with CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.engine.models import AuditEvent, Task
from app.notifications.models import OutboxMessage
from app.reports.snapshots import snapshot_overdue
from tests.report_helpers import TODAY, World, build


@pytest.fixture
def world(db: Session, registry) -> World:
    return build(db, registry)


def test_dashboard_shows_each_chart_with_its_numbers_in_chinese(db, world, client, login):
    login(client, world.bank.hr_a)
    page = client.get("/reports/dashboard")
    assert page.status_code == 200
    html = page.text
    assert html.count('<table class="numbers">') == 6
    # five charts: the trend draws none before the first daily snapshot (its note says so)
    assert html.count('class="pygal-chart report-chart"') == 5
    assert "尚未生成每日快照" in html
    assert html.count("<script") == 1  # the site script only: the charts carry none
    assert "各机构逾期待办" in html and "甲一支行" in html
    assert "乙一支行" not in html
    assert re.search(r"合计</th><td class=\"num\">7</td>", html)


def test_dashboard_reads_in_english_for_an_english_reader(db, world, client, login):
    login(client, world.bank.hr_a)
    html = client.get("/reports/dashboard?lang=en").text
    assert "Overdue tasks by unit" in html and "Sub-branch A1" in html
    assert "Stuck with whom" in html


def test_a_long_trend_table_folds_under_a_summary_of_its_latest_day(db, world, client, login):
    for back in range(9, -1, -1):  # ten daily snapshots, today's last
        snapshot_overdue(db, TODAY - timedelta(days=back))
    db.commit()
    login(client, world.bank.hr_a)
    trend = panel(client.get("/reports/dashboard").text, "trend")
    fold = re.search(r'<details class="numbers-fold fold-on-phone" open><summary>([^<]+)</summary>'
                     r'\s*<table class="numbers">', trend)
    assert fold, "the trend's table folds on a phone (open until the site script folds it)"
    assert fold.group(1) == "每日数字，共 10 天；最近 2026年11月18日：逾期 7 项"
    assert trend.count("<tr>") == 1 + 10  # the header and every day: nothing is left out
    english = panel(client.get("/reports/dashboard?lang=en").text, "trend")
    assert "Daily figures, 10 days; latest Nov 18, 2026: 7 overdue" in english
    # short tables (the other panels here) stay as they are
    assert "numbers-fold" not in panel(client.get("/reports/dashboard").text, "aging")


def panel(page: str, key: str) -> str:
    """One dashboard panel's HTML."""
    start = page.index(f'id="panel-{key}"')
    return page[start:page.index("</section>", start)]


def test_dashboard_drills_down_and_refuses_units_outside_the_scope(db, world, client, login):
    login(client, world.hr_ho)
    top = client.get("/reports/dashboard").text
    assert f'href="/reports/dashboard?unit={world.bank.branch_a.id}"' in top
    sub = client.get(f"/reports/dashboard?unit={world.bank.sub_a.id}")
    assert sub.status_code == 200 and "甲一支行" in sub.text
    client.post("/logout", data={"csrf_token": client.get("/api/me").json()["csrf_token"]})
    login(client, world.bank.hr_a)
    assert client.get(f"/reports/dashboard?unit={world.bank.branch_b.id}").status_code == 404


def test_people_without_hr_role_are_refused(db, world, client, login):
    login(client, world.bank.employee)
    assert client.get("/reports/dashboard").status_code == 403
    assert client.get("/api/reports/dashboard").status_code == 403


def test_dashboard_api_gives_the_same_numbers(db, world, client, login):
    login(client, world.bank.hr_a)
    body = client.get("/api/reports/dashboard").json()
    assert body["overdue_total"] == 7
    assert {line["unit"]["name"]: line["total"] for line in body["by_unit"]} == {
        "甲一支行": 5, "甲分行": 2}
    assert [c["count"] for c in body["aging"]] == [2, 2, 1, 2]
    assert body["waiting"][0]["count"] == 2
    assert (body["cycle_warning"], body["cycle_limit"]) == (2, 3)


def test_overdue_list_filters_pages_and_links_to_actions(db, world, client, login):
    login(client, world.bank.hr_a)
    page = client.get("/reports/overdue?bucket=days_3_5")
    assert page.status_code == 200
    assert page.text.count('name="task_ids"') == 2
    api = client.get("/api/reports/overdue?limit=3").json()
    assert api["total"] == 7 and len(api["rows"]) == 3 and api["next_cursor"]
    rest = client.get(f"/api/reports/overdue?limit=3&cursor={api['next_cursor']}").json()
    last = client.get(f"/api/reports/overdue?limit=3&cursor={rest['next_cursor']}").json()
    assert len(set(api["ids"] + rest["ids"] + last["ids"])) == 7
    assert last["next_cursor"] is None
    back = client.get(f"/api/reports/overdue?limit=3&cursor={last['prev_cursor']}").json()
    assert back["ids"] == rest["ids"]
    broken = client.get("/api/reports/overdue?cursor=broken!")
    assert broken.status_code == 404 and broken.json()["code"] == "not_found"


def test_remind_now_from_the_list_needs_the_csrf_token(db, world, client, login, csrf):
    login(client, world.bank.hr_a)
    task = world.tasks(db, world.p1)[0]
    refused = client.post(f"/reports/tasks/{task.id}/remind", data={"back": "/reports/overdue"})
    assert refused.status_code == 403
    done = client.post(f"/reports/tasks/{task.id}/remind",
                       data={"back": "/reports/overdue", "csrf_token": csrf(client)},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/reports/overdue"
    assert db.exec(select(OutboxMessage).where(OutboxMessage.task_id == task.id)).all()


def test_reassign_form_comes_back_with_errors_then_reassigns(db, world, client, login, csrf):
    login(client, world.bank.hr_a)
    task = next(t for t in world.tasks(db, world.p1) if t.assignee_id == world.bank.manager_a.id)
    form = client.get(f"/reports/tasks/{task.id}/reassign")
    assert form.status_code == 200 and 'name="reason"' in form.text
    bad = client.post(f"/reports/tasks/{task.id}/reassign",
                      data={"to": world.bank.president_a.employee_no, "reason": "",
                            "csrf_token": csrf(client)})
    assert bad.status_code == 422
    assert 'class="error"' in bad.text and world.bank.president_a.employee_no in bad.text
    good = client.post(f"/reports/tasks/{task.id}/reassign",
                       data={"to": world.bank.president_a.employee_no, "reason": "休假",
                             "csrf_token": csrf(client)}, follow_redirects=False)
    assert good.status_code == 303
    db.expire_all()
    assert db.get(Task, task.id).assignee_id == world.bank.president_a.id


def test_bulk_action_shows_a_confirmation_page_before_acting(db, world, client, login, csrf):
    login(client, world.bank.hr_a)
    ids = [t.id for t in world.tasks(db, world.p2)]
    data = {"task_ids": [str(i) for i in ids], "action": "remind", "csrf_token": csrf(client)}
    confirm = client.post("/reports/tasks/bulk", data=data)
    assert confirm.status_code == 200
    assert db.exec(select(OutboxMessage)).all() == []
    code = re.search(r'name="confirmation" value="([0-9a-f]+)"', confirm.text).group(1)
    done = client.post("/reports/tasks/bulk", data={**data, "confirmation": code},
                       follow_redirects=False)
    assert done.status_code == 303
    assert db.exec(select(AuditEvent).where(AuditEvent.trigger == "remind_now")).all()


def test_bulk_api_previews_then_applies(db, world, client, login, csrf):
    login(client, world.bank.hr_a)
    ids = [t.id for t in world.tasks(db, world.p1)]
    headers = {"X-CSRF-Token": csrf(client)}
    body = {"task_ids": ids, "to_person_id": world.bank.president_a.id, "reason": "集中处理"}
    answer = client.post("/api/reports/bulk/reassign", json=body, headers=headers)
    preview = answer.json()
    assert answer.status_code == 200, answer.text
    assert preview["applied"] is False and answer.headers["ETag"] == f'"{preview["confirmation"]}"'
    wrong = client.post("/api/reports/bulk/reassign", json=body,
                        headers={**headers, "If-Match": '"previewed-something-else"'})
    assert wrong.status_code == 412
    applied = client.post("/api/reports/bulk/reassign", json=body,
                          headers={**headers, "If-Match": answer.headers["ETag"]}).json()
    assert applied["applied"] is True and applied["done"] == len(ids)


def test_plan_list_filters_by_cycle_and_status(db, world, client, login):
    login(client, world.bank.hr_a)
    api = client.get("/api/reports/plans").json()
    assert api["total"] == 5
    assert client.get("/api/reports/plans?status=open").json()["total"] == 3
    cycle = client.get("/api/reports/plans?cycle=3&status=open&sort=cycle").json()
    assert cycle["total"] == 1 and cycle["rows"][0][2] == "甲组长"
    page = client.get("/reports/plans?sort=employee")
    assert page.status_code == 200 and "服务态度生硬" in page.text


@pytest.mark.parametrize("sort", ["newest", "oldest", "cycle", "updated", "employee"])
def test_every_plan_sort_pages_through_every_plan_and_back(db, world, client, login, sort):
    login(client, world.bank.hr_a)
    everything = client.get(f"/api/reports/plans?sort={sort}&status=all").json()
    seen, pages, cursor = [], [], ""
    while True:
        page = client.get(f"/api/reports/plans?sort={sort}&status=all&limit=1"
                          f"&cursor={cursor}")
        assert page.status_code == 200, page.text
        pages.append(page.json())
        seen += page.json()["ids"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == everything["ids"] and len(seen) == everything["total"] > 1
    back = client.get(f"/api/reports/plans?sort={sort}&status=all&limit=1"
                      f"&cursor={pages[-1]['prev_cursor']}").json()
    assert back["ids"] == pages[-2]["ids"]
