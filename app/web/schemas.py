"""The one error shape of the JSON API (RFC 9457 problem details), documented per operation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.i18n import N_

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"

# Every stable code the API answers with, its status and a title (translated when shown).
PROBLEM_TITLES: dict[str, tuple[int, str]] = {
    "bad_request": (400, N_("The request could not be understood")),
    "not_authenticated": (401, N_("Sign-in required")),
    "not_allowed": (403, N_("Not allowed")),
    "csrf_failed": (403, N_("CSRF token missing or wrong")),
    "read_only_token": (403, N_("This API token may only read")),
    "not_found": (404, N_("Not found")),
    "unknown_action": (404, N_("No such action")),
    "method_not_allowed": (405, N_("Method not allowed")),
    "wrong_state": (409, N_("Not possible in the current state")),
    "incomplete": (409, N_("The content is not complete yet")),
    "already_done": (409, N_("Already done")),
    "token_expired": (410, N_("The link or token is no longer valid")),
    "stale": (412, N_("Someone else changed it first")),
    "too_large": (413, N_("Too large")),
    "request_invalid": (422, N_("The request is not valid")),
    "validation_failed": (422, N_("Some fields are not valid")),
    "import_failed": (422, N_("Nothing was imported")),
    "definition_invalid": (422, N_("The workflow definition is not valid")),
    "precondition_required": (428, N_("If-Match required")),
    "rate_limited": (429, N_("Too many requests")),
    "locked": (429, N_("Too many failed sign-ins")),
    "server_error": (500, N_("Something went wrong on our side")),
}

# What each status means on any operation, for the OpenAPI document.
STATUS_MEANINGS = {
    400: "The request could not be understood",
    401: "Not signed in: send `Authorization: Bearer <token>` (or use a signed-in session)",
    403: "Not allowed; a read-only token, or a session write without the X-CSRF-Token header",
    404: "Not found, or not visible to the caller (need-to-know)",
    409: "Not possible now: `wrong_state`, `incomplete` or `already_done`",
    410: "The link or token is used or expired",
    412: "If-Match does not match the current ETag: someone else changed it first (`stale`)",
    413: "Too large",
    422: "The request or its content is not valid; `errors` names each field",
    428: "This write can race: send If-Match with the ETag you read (`precondition_required`)",
    429: "Too many requests; wait a minute",
    500: "Something went wrong on our side (logged)",
}


def problem_type(code: str) -> str:
    """The problem's type: a URI reference naming the kind of problem (stable per code)."""
    return f"/problems/{code}"


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, in the caller's language, with a stable code."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="A URI reference for the kind of problem: /problems/{code}")
    title: str = Field(description="A short summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong this time, in the caller's language")
    code: str = Field(description="A stable machine-readable code: " + ", ".join(PROBLEM_TITLES))
    instance: str = Field(description="The path the problem occurred on")
    errors: dict[str, str] = Field(
        default_factory=dict, description="A message per field (request body, query or header)")


class RejectedLine(BaseModel):
    """A CSV line that was refused, and why."""

    line: int
    problem: str


class ImportProblem(Problem):
    """Nothing was imported: the problem, with every refused line."""

    model_config = ConfigDict(title="ImportProblem")

    rejected: list[RejectedLine] = Field(default_factory=list)


def problems(*statuses: int, schema_ref: str = PROBLEM_SCHEMA_REF) -> dict[int | str, Any]:
    """The `responses=` of an operation that may answer with these error statuses (the ones
    every operation of its kind can give are added by app.web.openapi)."""
    return {status: problem_response(status, schema_ref) for status in statuses}


def problem_response(status: int, schema_ref: str = PROBLEM_SCHEMA_REF) -> dict[str, Any]:
    """One documented error response: problem details with the status's meaning."""
    return {"description": STATUS_MEANINGS.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": schema_ref}}}}
