"""`stepwise migrate` and `stepwise import org|people` on a throwaway SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import get_settings

DATA = Path(__file__).resolve().parents[1] / "data"
runner = CliRunner()


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at an empty var/ directory with its own SQLite database."""
    var = tmp_path / "var"
    monkeypatch.setenv("STEPWISE_VAR_DIR", str(var))
    monkeypatch.setenv("STEPWISE_DATABASE_URL", f"sqlite:///{var / 'stepwise.db'}")
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


def test_migrate_creates_the_var_dir_and_is_safe_to_repeat(var_dir: Path) -> None:
    first = runner.invoke(app, ["migrate"])
    again = runner.invoke(app, ["migrate"])

    assert first.exit_code == 0, first.output
    assert (var_dir / "stepwise.db").exists()
    assert "migrated from empty to" in first.output
    assert again.exit_code == 0
    assert "already at the newest revision" in again.output


def test_import_before_migrate_says_to_migrate_in_one_line(var_dir: Path) -> None:
    result = runner.invoke(app, ["import", "org", str(DATA / "org.csv")])

    assert result.exit_code == 1
    assert "run `stepwise migrate` first" in result.stderr
    assert "Traceback" not in result.output


def test_import_org_and_people_report_what_changed(var_dir: Path) -> None:
    runner.invoke(app, ["migrate"])

    org = runner.invoke(app, ["import", "org", str(DATA / "org.csv")])
    people = runner.invoke(app, ["import", "people", str(DATA / "people.csv")])
    again = runner.invoke(app, ["import", "people", str(DATA / "people.csv")])

    assert org.exit_code == 0, org.output
    assert "org.csv: 6 org units: 6 created, 0 updated, 0 unchanged." in org.output
    assert people.exit_code == 0, people.output
    assert "people.csv: 5 people: 5 created, 0 updated, 0 unchanged." in people.output
    assert "0 created, 0 updated, 5 unchanged." in again.output


def test_import_with_bad_rows_lists_line_and_reason_and_exits_1(
    var_dir: Path, tmp_path: Path
) -> None:
    runner.invoke(app, ["migrate"])
    bad = tmp_path / "org.csv"
    bad.write_text("code,name,name_en,kind,parent_code\n"
                   "HO,总行,Head Office,head_office,\n"
                   "JC,江城分行,Jiangcheng,region,HO\n", encoding="utf-8")

    result = runner.invoke(app, ["import", "org", str(bad)], env={"COLUMNS": "200"})

    assert result.exit_code == 1
    assert "unknown kind 'region'" in result.output
    assert "1 of 2 org rows were rejected; nothing was imported." in result.stderr
    counted = runner.invoke(app, ["import", "org", str(DATA / "org.csv")])
    assert "6 created" in counted.output


def test_import_of_a_missing_file_is_a_one_line_error(var_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["migrate"])

    result = runner.invoke(app, ["import", "people", str(tmp_path / "nobody.csv")])

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot read ")
    assert len(result.stderr.strip().splitlines()) == 1
