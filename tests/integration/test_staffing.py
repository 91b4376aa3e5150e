"""The staffing quota (DOMAIN §6) through the API, the HR page and the CLI: the branch's
second-level units counted from the organisation tree, HR's figures kept per year, every
headcount explained line by line and rolled up; only HR of the area sees it."""

from __future__ import annotations

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import app as cli
from app.org import service as org_service
from app.org.models import UnitKind
from tests.factories import bank

SCHEME = "corporate_cm_2012"
M = 1_000_000


@pytest.fixture
def org(db: Session):
    b = bank(db)
    for code in ("2", "3"):  # branch A: three sub-branches and a department (not counted)
        org_service.create_unit(db, code=f"{b.branch_a.code}-{code}", name=f"甲{code}支行",
                                name_en=f"Sub-branch A{code}", kind=UnitKind.sub_branch,
                                parent=b.branch_a)
    org_service.create_unit(db, code=f"{b.branch_a.code}-HR", name="甲分行人力资源部",
                            name_en="Branch A HR", kind=UnitKind.department, parent=b.branch_a)
    org_service.assign(db, person=b.admin, kind="role", name="hr", unit=b.head_office)
    db.commit()
    return b


def put(client, csrf, code: str, **figures):  # noqa: ANN001, ANN201
    return client.put(f"/api/promotions/staffing/{code}",
                      params={"scheme": SCHEME, "year": 2026}, json=figures,
                      headers={"X-CSRF-Token": csrf(client)})


def test_the_api_counts_units_from_the_tree_and_explains_the_headcount(client, login, csrf,
                                                                        org) -> None:
    login(client, org.hr_a)
    answer = client.get("/api/promotions/staffing", params={"scheme": SCHEME, "year": 2026,
                                                            "lang": "en"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [b["branch_code"] for b in body["branches"]] == [org.branch_a.code]  # HR's area
    branch = body["branches"][0]
    assert (branch["figures"]["second_level_units"], branch["headcount"]) == (3, 12)
    assert branch["figures"]["counted_from_tree"] is True
    saved = put(client, csrf, org.branch_a.code, asset_liability_size=5_000 * M,
                corporate_deposit_growth=200 * M, corporate_risk_asset_growth=210 * M)
    assert saved.status_code == 200, saved.text
    quota = saved.json()
    assert (quota["base"], quota["volume"], quota["uplift"], quota["headcount"]) == (12, 12, 1,
                                                                                     13)
    lines = {line["key"]: line for line in quota["lines"]}
    assert lines["uplift:corporate_deposit_growth"]["met"] is True  # +200m: inclusive
    assert lines["uplift"]["explanation"] == "2 of 3 condition(s) hold; 2 needed: +1"
    again = put(client, csrf, org.branch_a.code, second_level_units=5)  # the rest is kept
    assert (again.json()["base"], again.json()["headcount"]) == (20, 21)


def test_the_roll_up_adds_the_branches_of_the_area(client, login, org) -> None:
    login(client, org.admin)  # HR at the head office
    body = client.get("/api/promotions/staffing", params={"scheme": SCHEME}).json()
    assert {b["branch_code"]: b["headcount"] for b in body["branches"]} == {
        org.branch_a.code: 12, org.branch_b.code: 4}
    assert body["rollup"] == [{"unit_code": org.head_office.code, "unit_name": "总行",
                               "branches": 2, "headcount": 16}]
    assert body["total"] == 16


def test_only_hr_of_the_area_sees_or_keeps_a_branchs_figures(client, login, csrf, org) -> None:
    login(client, org.employee)
    assert client.get("/api/promotions/staffing", params={"scheme": SCHEME}).status_code == 403
    assert client.get("/promotions/staffing").status_code == 403
    login(client, org.hr_b)
    assert put(client, csrf, org.branch_a.code, second_level_units=9).status_code == 404
    assert client.get("/api/promotions/staffing", params={
        "scheme": "bocom_post_grades"}).status_code == 404  # no quota in that scheme


def test_bad_figures_are_refused_with_a_reason(client, login, csrf, org) -> None:
    login(client, org.hr_a)
    assert put(client, csrf, org.branch_a.code, asset_liability_size=-1).status_code == 422
    assert put(client, csrf, org.branch_a.code, bogus=1).status_code == 422


def test_the_hr_page_shows_the_lines_and_keeps_figures_entered_in_wan_yuan(client, login, csrf,
                                                                           org) -> None:
    login(client, org.hr_a)
    page = client.get(f"/promotions/staffing?scheme={SCHEME}&year=2026"
                      f"&branch={org.branch_a.code}&lang=zh_CN")
    assert page.status_code == 200
    assert "甲2支行、甲3支行、甲一支行" in page.text or "甲一支行、甲2支行、甲3支行" in page.text
    form = {"csrf_token": csrf(client), "scheme": SCHEME, "year": "2026",
            "branch": org.branch_a.code, "second_level_units": "", "asset_liability_size": "520000",
            "corporate_deposit_growth": "abc", "corporate_risk_asset_growth": "",
            "sme_credit_lines_start": "", "sme_credit_lines_end": "600, 2000 3000"}
    refused = client.post("/promotions/staffing", data=form)
    assert refused.status_code == 422
    assert 'value="520000"' in refused.text and 'id="f-corporate_deposit_growth-error"' in (
        refused.text)
    form["corporate_deposit_growth"] = "25000"
    saved = client.post("/promotions/staffing", data=form, follow_redirects=True)
    assert saved.status_code == 200
    assert "52亿元 ÷ 4亿元 = 13" in saved.text  # 520,000 万元 is CNY 5.2bn
    assert "年初 0 户，年末 2 户" in saved.text  # 600 and 2000 万元 are SMEs, 3000 is not
    assert "corporate_cm_2012" not in saved.text.split("<main", 1)[1].replace(
        'value="corporate_cm_2012"', "").replace("scheme=corporate_cm_2012", "")


def test_the_cli_prints_each_line_and_the_total(db, org, cli_database) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, [
        "staffing", "--scheme", SCHEME, "--branch", org.branch_a.code, "--size", "6400000000",
        "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "CNY 6,400m ÷ CNY 400m = 16, rounded down: 16" in result.output
    assert "Total: 16" in result.output
    unknown = CliRunner().invoke(cli, ["staffing", "--scheme", SCHEME, "--branch", "NOPE"])
    assert unknown.exit_code == 1 and "No branch with code NOPE" in unknown.stderr
