"""Schemathesis over the whole OpenAPI document, as HR and as an employee: every default check
(server errors, status codes and response schemas as documented, content types, headers, valid
data accepted, invalid data refused, methods, auth…), bounded: zero failures.

The project's schemathesis.toml is the configuration, as for `st run` in the project: it only
adds 412/428 (the conditional-write contract) to what a schema-valid request may be answered.
To keep the suite fast, HR (who reaches the most) gets every phase on SQLite, and the employee
the generated and stateful phases on PostgreSQL (the coverage phase's boundary cases cost most).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from sqlmodel import Session

from app.auth import api_tokens
from app.plans import service
from app.plans.schemas import GapDraft
from tests.factories import bank

PROJECT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 3  # per operation and phase, on top of the coverage phase's own cases
# One run per backend: both roles and both databases, in the time the suite can spare.
RUNS = {"sqlite": ("hr_a", None),
        "postgresql": ("employee", ["examples", "fuzzing", "stateful"])}


@pytest.fixture
def people(db: Session, app):
    """A bank with a plan in the drafting stage for the employee."""
    org = bank(db)
    db.commit()
    from fastapi.testclient import TestClient

    with TestClient(app):  # start-up stores the workflow definitions
        pass
    service.start_plan(db, employee=org.employee, initiator=org.employee, title="模糊测试计划",
                       gaps=[GapDraft(requirement="要求", actual="实际")])
    db.commit()
    return org


def fuzz(app, secret: str, phases: list[str] | None) -> list[str]:
    """Every failure and error of one bounded run over the whole document."""
    config = SchemathesisConfig.from_path(PROJECT / "schemathesis.toml")
    project = config.projects.override
    project.update(headers={"Authorization": f"Bearer {secret}"}, workers=1)
    project.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
    if phases is not None:
        project.phases.update(phases=phases)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    found: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                found += [f"{event.recorder.label}: {check.name}: "
                          f"{check.failure_info.failure.title if check.failure_info else ''}"
                          for check in checks if check.status == Status.FAILURE]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"error: {event!r}"[:300])
    return sorted(set(found))


def test_schemathesis_finds_nothing_as_hr_and_as_an_employee(app, db, people, backend) -> None:
    who, phases = RUNS[backend]
    token = api_tokens.create_token(db, person=getattr(people, who), name="fuzz", scope="write")
    db.commit()
    found = fuzz(app, token.secret, phases)
    assert not found, "\n".join(found)
