"""`stepwise simulate`: the mails a new case would get on the calendar if nobody acted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from app.config import get_settings
from app.engine.calendar import WorkingCalendar
from app.engine.definitions import DeadlinePolicy
from app.engine.registry import Registry
from app.reminders.models import TimerKind
from app.reminders.plan import Phase, mails, phase_on
from app.scheduler_cli import app, simulation_rows

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_simulation_lists_each_mail_and_what_it_says_on_its_day() -> None:
    registry = Registry(WORKFLOWS)
    registry.load()
    spec = registry.files["improvement_plan"].spec
    rows = simulation_rows(spec, WorkingCalendar(), date(2026, 2, 9), date(2026, 3, 1),
                           "plan_proposed", "en", registry.vocabulary)
    assert [(day, what, says, to) for day, _, what, says, to in rows] == [
        ("2026-02-11", "reminder before the due day", "due on 2026-02-12",
         "Employee, Supervisor"),
        ("2026-02-12", "reminder on the due day", "due today", "Employee, Supervisor"),
        # a make-up Saturday
        ("2026-02-14", "overdue reminder #1", "overdue by 2 working days",
         "Employee, Supervisor"),
        ("2026-02-14", "escalation", "overdue by 2 working days", "Supervisor's supervisor"),
        # after the Spring Festival
        ("2026-02-25", "overdue reminder #2", "overdue by 4 working days",
         "Employee, Supervisor"),
        ("2026-02-26", "escalation", "overdue by 5 working days", "HR (branch)"),
        ("2026-02-27", "overdue reminder #3", "overdue by 6 working days",
         "Employee, Supervisor"),
    ]


def test_one_mail_a_day_the_latest_rung_and_what_came_due_before_the_start_on_day_one() -> None:
    cal = WorkingCalendar()
    sunday = date(2027, 3, 7)
    policy = DeadlinePolicy(due_on_field="period_end", remind_before=[5, 1],
                            escalate=[{"after_working_days": 0, "to": "subject.supervisor"},
                                      {"after_working_days": 1, "to": "role:hr@subject.branch"}])
    planned = mails(cal, policy, sunday, date(2027, 3, 3), date(2027, 3, 31))
    assert [(m.day, m.kind, m.level) for m in planned] == [
        (date(2027, 3, 3), TimerKind.before_due, 5),  # fell due on 1 Mar, before the start
        (date(2027, 3, 5), TimerKind.on_due, 0),  # Friday: before-due #1 falls the same day
        (date(2027, 3, 8), TimerKind.escalation, 1),  # both rungs on Monday: the higher one
    ]
    assert phase_on(cal, sunday, date(2027, 3, 5)) == (Phase.last_day, 0)
    assert phase_on(cal, sunday, date(2027, 3, 8)) == (Phase.overdue, 1)


def _simulate(tmp_path: Path, *args: str, database_url: str | None = None):
    env = {"STEPWISE_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'none.db'}",
           "STEPWISE_DEFAULT_LOCALE": "en", "STEPWISE_WORKFLOWS_DIR": str(WORKFLOWS)}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["simulate", *args], env=env)
    finally:
        get_settings.cache_clear()


def test_the_simulate_command_prints_the_table(tmp_path: Path) -> None:
    result = _simulate(tmp_path, "improvement_plan", "--start", "2027-01-25", "--days", "10")
    assert result.exit_code == 0, result.output
    assert "2027-01-29" in result.output and "due on 2027-02-01" in result.output
    assert "due 2027-02-01" in result.output
    assert "2027 has no official holiday notice loaded; weekends only." in result.output
    assert "No database yet" in result.output
    assert not (tmp_path / "none.db").exists()


def test_simulate_refuses_to_ignore_hr_corrections_when_the_database_does_not_answer(
        tmp_path: Path) -> None:
    down = "postgresql://postgres@127.0.0.1:1/stepwise"
    result = _simulate(tmp_path, "improvement_plan", "--start", "2027-01-25",
                       database_url=down)
    assert result.exit_code == 1
    assert "Cannot read HR's calendar corrections" in result.output
    assert "--without-corrections" in result.output
    official = _simulate(tmp_path, "improvement_plan", "--start", "2027-01-25",
                         "--without-corrections", "--working-days", "60", database_url=down)
    assert official.exit_code == 0, official.output
    assert "Without HR's calendar corrections" in official.output


def test_simulate_a_state_due_on_a_date_of_the_case(tmp_path: Path) -> None:
    result = _simulate(tmp_path, "improvement_plan", "--start", "2027-03-01", "--state",
                       "in_progress")
    assert result.exit_code == 2 and "--due" in result.output
    result = _simulate(tmp_path, "improvement_plan", "--start", "2027-03-01", "--state",
                       "in_progress", "--due", "2027-03-12")
    assert result.exit_code == 0, result.output
    assert "2027-03-05" in result.output and "2027-03-11" in result.output
