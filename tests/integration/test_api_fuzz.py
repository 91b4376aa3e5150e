"""A bounded schemathesis run over the OpenAPI spec, signed in with a write token: no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from sqlmodel import Session

from app.auth import api_tokens
from app.plans import service
from app.plans.schemas import GapDraft
from tests.factories import bank

MAX_EXAMPLES = 8  # per operation and backend: enough to hit every handler, CI stays fast


@pytest.fixture
def token(db: Session, client) -> str:
    """HR's write token on a bank with one plan (the client has synced the definitions)."""
    org = bank(db)
    db.commit()
    service.start_plan(db, employee=org.employee, initiator=org.employee, title="模糊测试计划",
                       gaps=[GapDraft(requirement="要求", actual="实际")])
    new = api_tokens.create_token(db, person=org.hr_a, name="fuzz", scope="write")
    db.commit()
    return new.secret


def operations(app) -> list:  # noqa: ANN001
    """Every operation of the app's own OpenAPI document, served in-process."""
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in loaded.get_all_operations()]


def test_no_operation_answers_with_a_server_error(app, token) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    found = []
    for operation in operations(app):

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def fuzz(case) -> None:  # noqa: ANN001
            try:
                status = case.call(headers=headers).status_code
            except Exception as exc:  # noqa: BLE001 - the in-process client re-raises app errors
                status = f"500 {exc!r}"[:120]
            if str(status).startswith("5"):
                found.append(f"{case.method} {case.formatted_path} -> {status}: "
                             f"{case.query} {case.body!r}"[:400])

        fuzz()
    assert not found, "\n".join(found)
