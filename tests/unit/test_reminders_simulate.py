"""`stepwise simulate`: what a new case would get on the calendar if nobody acted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from app.config import get_settings
from app.engine.calendar import WorkingCalendar
from app.engine.registry import Registry
from app.scheduler_cli import app, simulation_rows

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_simulation_lists_reminders_and_escalations_on_working_days() -> None:
    registry = Registry(WORKFLOWS)
    registry.load()
    spec = registry.files["improvement_plan"].spec
    rows = simulation_rows(spec, WorkingCalendar(), date(2026, 2, 9), 20, "plan_proposed", "en",
                           registry.vocabulary)
    assert [(day, what, to) for day, _, what, to in rows] == [
        ("2026-02-11", "reminder before the due day", "Employee, Supervisor"),
        ("2026-02-12", "due", "Employee, Supervisor"),
        ("2026-02-12", "reminder on the due day", "Employee, Supervisor"),
        ("2026-02-14", "overdue reminder #1", "Employee, Supervisor"),  # make-up Saturday
        ("2026-02-14", "escalation", "Supervisor's supervisor"),
        ("2026-02-25", "overdue reminder #2", "Employee, Supervisor"),  # after the festival
        ("2026-02-26", "escalation", "HR (branch)"),
        ("2026-02-27", "overdue reminder #3", "Employee, Supervisor"),
    ]


def test_the_simulate_command_prints_the_table(tmp_path: Path) -> None:
    env = {"STEPWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
           "STEPWISE_DEFAULT_LOCALE": "en", "STEPWISE_WORKFLOWS_DIR": str(WORKFLOWS)}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["simulate", "improvement_plan", "--start",
                                          "2027-01-25", "--days", "10"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "2027-01-29" in result.output and "reminder before the due day" in result.output
    assert "2027 has no official holiday notice loaded; weekends only." in result.output
    assert not (tmp_path / "none.db").exists()
