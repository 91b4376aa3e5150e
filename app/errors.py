"""Domain errors, and the one place that maps them to HTTP status codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.i18n import Message


class DomainError(Exception):
    """Base of every error a user can cause; its message is a msgid translated when shown."""

    status_code = 400
    code = "error"

    @property
    def api_status(self) -> int:
        """The status the JSON API answers with (the same as pages unless a class says)."""
        return getattr(self, "api_status_code", self.status_code)

    def __init__(self, message: str, **params: Any) -> None:
        self.message = Message(message, params)
        super().__init__(str(self.message))

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message in the reader's language (English without a translator)."""
        return self.message.render(gettext)


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    status_code = 404
    code = "not_found"


class PlanNotFound(NotFound):
    """No improvement plan with that id is visible to the caller."""


class InstanceNotFound(NotFound):
    """No workflow instance with that id is visible to the caller."""


class NotAllowed(DomainError):
    """The caller is known but may not do this."""

    status_code = 403
    code = "not_allowed"


class ReadOnlyToken(NotAllowed):
    """A read-only API token was used for a change."""

    code = "read_only_token"


class NotAuthenticated(DomainError):
    """The caller must sign in first."""

    status_code = 401
    code = "not_authenticated"


class UnknownAction(NotFound):
    """The workflow has no action of that name."""

    code = "unknown_action"


class InvalidTransition(DomainError):
    """The action (or edit) is not possible in the case's current state."""

    status_code = 409
    code = "wrong_state"


class Incomplete(InvalidTransition):
    """The content is not complete enough for the action yet (a guard refused it)."""

    code = "incomplete"


class AlreadyDone(InvalidTransition):
    """What the caller asks for has already been done (signed, checked, applied)."""

    code = "already_done"


class StaleInstance(DomainError):
    """Someone else acted first; the caller's view (its ETag or version) is out of date.

    Pages show it as a conflict with the fresh content; the API answers 412, because there the
    view a write was based on travels as If-Match.
    """

    status_code = 409
    api_status_code = 412
    code = "stale"


class PreconditionRequired(DomainError):
    """A write that can race came without the version it was based on (If-Match)."""

    status_code = 428
    code = "precondition_required"


class TokenExpired(DomainError):
    """A link or token is used, expired or overtaken."""

    status_code = 410
    code = "token_expired"


class ValidationFailed(DomainError):
    """Input broke one or more rules; field errors say which and why."""

    status_code = 422
    code = "validation_failed"

    def __init__(
        self, message: str, field_errors: dict[str, Message] | None = None, **params: Any
    ) -> None:
        super().__init__(message, **params)
        self.field_errors = field_errors or {}

    def field_texts(self, gettext: Callable[[str], str] | None = None) -> dict[str, str]:
        """Each field's error in the reader's language."""
        return {name: msg.render(gettext) for name, msg in self.field_errors.items()}


class DefinitionError(DomainError):
    """A workflow definition file is malformed or fails a static check."""

    status_code = 422
    code = "definition_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("{problems}", problems="\n".join(problems))
        self.problems = problems


class ImportFailed(DomainError):
    """A CSV import had rejected rows and imported nothing."""

    code = "import_failed"

    def __init__(self, message: str, rejected: list[tuple[int, str]], **params: Any) -> None:
        super().__init__(message, **params)
        self.rejected = rejected
