"""Exports: lists as filtered to CSV (Excel-safe UTF-8) and XLSX, and the quarterly indicator
workbook; every file is opened with the csv module or openpyxl and read back."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from app.plans.models import Review, ReviewIndicator
from tests.report_helpers import World, build


@pytest.fixture
def world(db: Session, registry) -> World:
    return build(db, registry)


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to read Chinese"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes, sheet: int = 0) -> list[tuple]:
    book = load_workbook(io.BytesIO(content))
    return list(book.worksheets[sheet].iter_rows(values_only=True))


def test_overdue_csv_keeps_chinese_and_follows_the_filters(db, world, client, login):
    login(client, world.bank.hr_a)
    response = client.get("/reports/overdue.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = read_csv(response.content)
    assert rows[0][:3] == ["待办事项", "事项", "流程"]
    assert len(rows) == 1 + 7
    assert {r[4] for r in rows[1:]} >= {"张三", "李四", "甲组长"}
    assert "王五" not in {r[4] for r in rows[1:]}
    assert [r[-1] for r in rows[1:]] == ["13", "13", "7", "4", "4", "1", "1"]
    filtered = read_csv(client.get("/reports/overdue.csv?bucket=days_0_2").content)
    assert len(filtered) == 1 + 2


def test_plans_xlsx_has_every_matching_row_in_english_headers(db, world, client, login):
    login(client, world.bank.hr_a)
    client.get("/reports/dashboard?lang=en")
    response = client.get("/reports/plans.xlsx?status=open")
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = read_xlsx(response.content)
    assert rows[0][:4] == ("Plan", "Employee no.", "Employee", "Unit")
    assert len(rows) == 1 + 3
    titles = {r[4] for r in rows[1:]}
    assert titles == {"报表迟报", "服务态度生硬", "内控评价"}
    assert {r[5] for r in rows[1:]} == {1, 2, 3}


def test_text_that_looks_like_a_formula_stays_text(db, world, client, login):
    world.p1.title = '=HYPERLINK("http://evil.test","点我")'
    db.commit()
    login(client, world.bank.hr_a)
    csv_rows = read_csv(client.get("/reports/plans.csv?q=HYPERLINK").content)
    assert csv_rows[1][4].startswith("'=HYPERLINK")
    book = load_workbook(io.BytesIO(client.get("/reports/plans.xlsx?q=HYPERLINK").content))
    cell = book.worksheets[0]["E2"]
    assert cell.data_type == "s" and cell.value == world.p1.title


@pytest.mark.parametrize("path", [
    "/reports/plans.csv", "/reports/plans.csv?sort=oldest", "/reports/plans.csv?sort=cycle",
    "/reports/plans.csv?sort=updated", "/reports/plans.csv?sort=employee",
    "/reports/overdue.csv", "/reports/overdue.csv?sort=newest",
])
def test_an_export_fetched_in_many_chunks_has_every_row_once_in_order(
    db, world, client, login, monkeypatch, path
):
    from app.reports import lists

    login(client, world.bank.hr_a)
    whole = read_csv(client.get(path).content)
    monkeypatch.setattr(lists, "EXPORT_CHUNK", 2)

    chunked = read_csv(client.get(path).content)

    assert len(whole) > 1 + 2 * 2  # more than two chunks
    assert chunked == whole


def _review(db: Session, plan_id: int, cut_off: date, rows: list[tuple]) -> None:
    review = Review(plan_id=plan_id, period_label="2026年四季度", cut_off_on=cut_off)
    db.add(review)
    db.flush()
    for position, (name, unit, kind, actual, plan_value, target) in enumerate(rows):
        db.add(ReviewIndicator(review_id=review.id, position=position, indicator=name,
                               unit=unit, balance_kind=kind, actual=actual,
                               change_since_year_start=actual / 2, plan_value=plan_value,
                               time_proportional_target=target))
    db.commit()


def test_quarterly_workbook_sums_each_indicator_per_unit_and_lists_every_row(db, world, client,
                                                                             login):
    _review(db, world.p1.id, date(2026, 12, 31), [("个人存款日均", "万元", "daily_avg", 800, 1000,
                                                   900), ("有效客户", "户", "point", 30, 25, 20)])
    _review(db, world.p2.id, date(2026, 11, 30), [("个人存款日均", "万元", "daily_avg", 600, 500,
                                                   450)])
    _review(db, world.p4.id, date(2026, 12, 31), [("个人存款日均", "万元", "daily_avg", 1, 2, 1)])
    _review(db, world.p3.id, date(2026, 9, 30), [("内控评价", "%", "point", 90, 100, 100)])
    login(client, world.bank.hr_a)
    response = client.get("/reports/quarterly.xlsx?year=2026&quarter=4")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["汇总", "明细"]
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[0][:4] == ("单位", "指标", "计量单位", "余额类型")
    assert summary[1:] == [
        ("甲一支行", "个人存款日均", "万元", "日均", 2, 1400, 1500, 93.3, 1350, 1),
        ("甲一支行", "有效客户", "户", "时点", 1, 30, 25, 120, 20, 0),
    ]
    detail = list(book["明细"].iter_rows(values_only=True))
    assert len(detail) == 1 + 3
    assert {r[2] for r in detail[1:]} == {"张三", "李四"}
    deposits = next(r for r in detail[1:] if r[2] == "张三" and r[5] == "个人存款日均")
    assert deposits[11] == 80 and deposits[13] == "落后"
    assert "王五" not in {r[2] for r in detail[1:]}


def test_quarterly_report_rejects_a_unit_outside_the_scope(db, world, client, login):
    login(client, world.bank.hr_a)
    url = f"/reports/quarterly.xlsx?year=2026&quarter=4&unit={world.bank.branch_b.id}"
    assert client.get(url).status_code == 404


def test_csv_writes_instants_in_the_organisations_time_to_the_minute():
    from datetime import UTC, datetime

    from app.reports.exports import csv_text

    assert csv_text(datetime(2026, 5, 3, 20, 5, 59, tzinfo=UTC)) == "2026-05-04 04:05"
    assert csv_text(datetime(2026, 5, 3, 20, 5)) == "2026-05-03 20:05"  # already local
