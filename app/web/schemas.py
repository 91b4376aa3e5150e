"""JSON shapes every API route shares: the error body, documented once for OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """A 4xx/5xx answer: a readable detail in the caller's language and a stable code."""

    detail: str
    code: str = Field(description="not_found, not_allowed, stale, invalid_transition, …")
    errors: dict[str, str] | None = Field(
        default=None, description="Per-field messages when the form has errors (422)"
    )


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that may answer with these error statuses."""
    meaning = {
        401: "Not signed in",
        403: "Not allowed, or the CSRF header is missing",
        404: "Not found, or not visible to the caller",
        409: "Unknown or impossible action, or someone else acted first",
        410: "The link or token is used or expired",
        422: "The body or the form has errors",
    }
    return {code: {"model": ErrorOut, "description": meaning.get(code, "Error")}
            for code in codes}
