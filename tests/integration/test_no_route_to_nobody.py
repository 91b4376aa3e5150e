"""No route to nobody (DOMAIN §1, §4): every actor of every step is resolved for everyone in
the organisation; a step that would wait on nobody is named with its unit, by
`stepwise workflows check --org`, in the log at start-up and on the HR dashboard."""

from __future__ import annotations

import logging

from sqlmodel import Session
from typer.testing import CliRunner

from app.assessments.wording import localise
from app.cli import app as cli
from app.engine.registry import Registry
from app.promotions import reach
from tests.factories import bank
from tests.promotion_helpers import provincial_bank


def gaps_for(db: Session, registry: Registry, workflow: str, state: str) -> list:
    return [g for g in reach.check(db, registry)
            if (g.site.workflow, g.site.state) == (workflow, state)]


def test_a_bank_without_a_provincial_level_strands_the_corporate_steps(db, registry) -> None:
    b = bank(db)
    db.commit()
    found = gaps_for(db, registry, "promotion_corp_grade", "corporate_review")
    stranded = {u.name for g in found if g.why == "no_level" for u in g.subject_units}
    assert {"甲一支行", "乙一支行", "甲分行"} <= stranded
    missing_level = next(g for g in found if g.why == "no_level" and g.unit.id == b.branch_a.id)
    line = localise(reach.describe(missing_level, registry.vocabulary, "en"), "en")
    assert line.startswith("Customer-manager grade adjustment (corporate) · Corporate department "
                           "reviews: “Corporate business department (provincial branch)” "
                           "reaches nobody in")
    assert "there is no provincial branch above them" in line
    assert "甲一支行" in localise(reach.describe(missing_level, registry.vocabulary, "zh_CN"),
                              "zh_CN")
    assert b.sub_a.id in {u.id for u in missing_level.subject_units}


def test_a_provincial_level_with_its_holders_resolves_the_route(db, registry) -> None:
    org = provincial_bank(db)
    db.commit()
    found = gaps_for(db, registry, "promotion_corp_grade", "corporate_review")
    stranded = {u.id for g in found for u in g.subject_units}
    assert org.city_sub.id not in stranded  # under the province: resolved
    assert org.branch_sub.id in stranded  # a branch straight under head office: not


def test_a_role_nobody_holds_names_the_unit_where_it_is_missing(db, registry) -> None:
    bank(db)  # branch B has HR, branch A's cm management group is held by nobody
    db.commit()
    found = gaps_for(db, registry, "promotion_post_grade", "qualification_review")
    assert found and all(g.why == "no_holder" for g in found)
    assert {g.unit.name for g in found} >= {"甲分行", "乙分行"}


def test_workflows_check_org_reports_the_step_and_the_unit(db, cli_database) -> None:
    bank(db)
    db.commit()
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["workflows", "check", "--org"])
    assert result.exit_code == 1, result.output
    assert ("✗ Leaving the customer-manager team (corporate) · Corporate department checks: "
            "“Corporate business department (provincial branch) "
            "[role:corporate_department@subject.province]” reaches nobody in") in result.output
    plain = CliRunner().invoke(cli, ["workflows", "check"])
    assert plain.exit_code == 0, plain.output  # the files themselves are fine


def test_start_up_warns_in_the_log(db, app_settings, engine, caplog) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from app.main import create_app

    bank(db)
    db.commit()
    app = create_app(app_settings, engine)  # configures logging (the app's own handlers)
    logging.getLogger("stepwise").addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="stepwise"), TestClient(app):
            pass
    finally:
        logging.getLogger("stepwise").removeHandler(caplog.handler)
    warned = [r.getMessage() for r in caplog.records if "a step reaches nobody" in r.message]
    assert any("Corporate department reviews" in line and "Sub-branch A1" in line
               for line in warned), warned


def test_the_hr_dashboard_lists_the_steps_of_its_area(db, app, login) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    b = bank(db)
    db.commit()
    with TestClient(app) as client:
        login(client, b.hr_a)
        page = client.get("/reports/dashboard?lang=en")
        assert page.status_code == 200
        warning = page.text[page.text.index('id="unrouted"'):]
        assert "Steps that would wait on nobody" in warning and "Sub-branch A1" in warning
        assert "Sub-branch B1" not in warning  # branch B is not HR A's area
        login(client, b.employee)
        assert 'id="unrouted"' not in client.get("/reports/dashboard").text
