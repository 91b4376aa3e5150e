"""HR's dashboard in the browser, in English: head-office HR drills down to a branch, opens its
overdue list, reminds one holder now and several after the confirmation page, and downloads the
list as an Excel file that opens with openpyxl."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from tests.e2e.conftest import Live

LATER = datetime(2026, 3, 16, 10, 0)  # two weeks after the demo's today: its cases are late


def test_hr_drills_down_to_a_branch_reminds_the_overdue_and_exports_them(
        live: Live, open_as, shot, tmp_path: Path) -> None:  # noqa: ANN001
    live.sweep(LATER)
    hr = open_as("hr01", "en-US")
    hr.goto("/reports/dashboard?lang=en")  # hr01 reads Chinese unless they switch
    hr.locator("h1", has_text="HR dashboard").wait_for()
    shot(hr, "dashboard-head-office")

    units = ".report-panel table.numbers a[href*='/reports/dashboard?unit=']"
    hr.locator(units, has_text="Jiangnan").first.click()  # the provincial branch, then a branch
    hr.locator("nav.breadcrumb strong", has_text="Jiangnan").wait_for()
    hr.locator(units, has_text="Jiangcheng").first.click()
    hr.locator("nav.breadcrumb strong").wait_for()
    assert "Jiangcheng" in hr.locator("h1").inner_text()
    shot(hr, "dashboard-branch")

    hr.locator("p.summary a[href^='/reports/overdue']").click()
    hr.wait_for_url(re.compile(r"/reports/overdue"))
    rows = hr.locator("form#bulk tbody tr")
    assert rows.count() >= 3, "the demo branch should have overdue tasks two weeks on"
    shot(hr, "overdue")

    rows.first.get_by_role("button", name="Remind now").click()
    hr.wait_for_url(re.compile(r"/reports/overdue"))
    flash = hr.locator("p.flash").first
    assert re.search(r"People reminded: \d+|Nobody was reminded", flash.inner_text())
    shot(hr, "reminded-one")

    rows = hr.locator("form#bulk tbody tr")
    rows.nth(1).locator("input[name=task_ids]").check()
    rows.nth(2).locator("input[name=task_ids]").check()
    hr.locator("form#bulk select[name=action]").select_option("remind")
    hr.locator("form#bulk fieldset.bulk button[type=submit]").click()
    hr.locator("h1", has_text="Confirm the bulk action").wait_for()
    assert "Tasks to remind now: 2." in hr.locator("main, body").first.inner_text()
    shot(hr, "bulk-confirmation")
    hr.get_by_role("button", name="Confirm", exact=True).click()
    hr.wait_for_url(re.compile(r"/reports/overdue"))
    shot(hr, "bulk-reminded")

    with hr.expect_download() as caught:
        hr.get_by_role("link", name="Excel", exact=True).click()
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    sheet = load_workbook(BytesIO(saved.read_bytes()), read_only=True).active
    table = list(sheet.values)
    header = next(row for row in table if row and any(row))
    assert len([row for row in table if any(row)]) >= 1 + rows.count()
    assert all(isinstance(cell, str) for cell in header if cell), header
