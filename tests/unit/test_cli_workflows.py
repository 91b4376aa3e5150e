"""`stepwise workflows check|show` and the help texts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()

BROKEN = """\
workflow: mini
label: {en: Mini, zh: 迷你}
initial: open
states:
  open: {label: {en: Open, zh: 打开}}
  done: {label: {en: Done, zh: 完成}, terminal: true}
transitions:
  - trigger: finish
    label: {en: Finish, zh: 完成}
    source: open
    dest: nowhere
    actors: [subject]
"""


def test_help_describes_every_command() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("serve", "migrate", "demo", "workflows", "import"):
        assert command in result.output


def test_workflows_check_passes_on_the_project_workflows() -> None:
    result = runner.invoke(app, ["workflows", "check"])

    assert result.exit_code == 0, result.output
    assert "✓ improvement_plan.yaml: improvement_plan" in result.output


def test_workflows_check_names_file_and_path_of_a_problem_and_exits_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")

    result = runner.invoke(app, ["workflows", "check", str(broken)])

    assert result.exit_code == 1
    assert "broken.yaml: transitions[0] (finish).dest: unknown state 'nowhere'" in result.output
    assert "Traceback" not in result.output


def test_workflows_check_reports_good_and_bad_files_together(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN.replace("dest: nowhere", "dest: done\n    form: [excuse]"),
                      encoding="utf-8")
    good = Path(__file__).resolve().parents[2] / "workflows" / "improvement_plan.yaml"

    result = runner.invoke(app, ["workflows", "check", str(good), str(broken)])

    assert result.exit_code == 1
    assert "✓ improvement_plan.yaml" in result.output
    assert "broken.yaml: transitions[0] (finish).form[0]: unknown field 'excuse'" in result.output


def test_workflows_check_on_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["workflows", "check", str(tmp_path / "absent.yaml")])

    assert result.exit_code == 1
    assert "absent.yaml: no such file" in result.output


def test_workflows_show_lists_states_actions_actors_and_deadlines() -> None:
    result = runner.invoke(app, ["workflows", "show", "improvement_plan"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for text in ("plan_proposed", "record_gap", "subject.supervisor", "role:hr@subject.branch",
                 "due in 5 working days", "outcome", "Agree and sign / 同意并签字"):
        assert text in result.output


def test_workflows_show_of_an_unknown_name_is_a_one_line_error() -> None:
    result = runner.invoke(app, ["workflows", "show", "holiday_request"])

    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: no workflow named 'holiday_request' (known: ")
    assert "improvement_plan" in lines[0]
