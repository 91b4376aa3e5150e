"""Posted form text turned into a service input model, with errors per field in our words."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import ValidationFailed
from app.i18n import Message

Model = TypeVar("Model", bound=BaseModel)

_MESSAGES = {
    "missing": Message("This field is required."),
    "string_too_short": Message("This field is required."),
    "float_parsing": Message("Enter a number."),
    "float_type": Message("Enter a number."),
    "int_parsing": Message("Enter a whole number."),
    "int_type": Message("Enter a whole number."),
    "date_parsing": Message("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": Message("Enter a date as YYYY-MM-DD."),
    "date_type": Message("Enter a date as YYYY-MM-DD."),
    "literal_error": Message("Choose one of the offered options."),
    "bool_parsing": Message("Choose one of the offered options."),
    "extra_forbidden": Message("This field is not expected here."),
}


def field_key(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a form input name: ('rows', 0, 'x') -> 'rows-0-x'."""
    return "-".join(str(part) for part in loc) or "form"


def message_for(error: dict[str, Any]) -> Message:
    """Our message for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return Message("At most {n} characters.", {"n": ctx.get("max_length")})
    if kind in ("greater_than_equal", "greater_than"):
        return Message("At least {n}.", {"n": ctx.get("ge", ctx.get("gt"))})
    if kind in ("less_than_equal", "less_than"):
        return Message("At most {n}.", {"n": ctx.get("le", ctx.get("lt"))})
    return _MESSAGES.get(kind, Message("This value is not valid."))


def parse_input(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate input into a model; ValidationFailed names every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, Message] = {}
        for item in exc.errors():
            errors.setdefault(field_key(tuple(item["loc"])), message_for(item))
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors) from exc


def blank_to_none(values: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    """Empty optional inputs (numbers, dates, ids) mean 'not given'."""
    return {k: (None if k in names and not str(v).strip() else v) for k, v in values.items()}
