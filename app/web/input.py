"""Posted form text turned into a service input model, with errors per field in our words;
and the one check that keeps control characters out of every request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.errors import ValidationFailed
from app.i18n import Message
from app.text import CONTROL, has_control_characters

Model = TypeVar("Model", bound=BaseModel)

_MESSAGES = {
    "missing": Message("This field is required."),
    "string_too_short": Message("This field is required."),
    "float_parsing": Message("Enter a number."),
    "float_type": Message("Enter a number."),
    "finite_number": Message("Enter an ordinary number (not infinite, not NaN)."),
    "id_invalid": Message("Choose one of the offered options."),
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


CONTROL_MESSAGE = Message("Remove the control character (such as NUL) from this text.")


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every text in a JSON value with its place ('rows-0-name'), keys included."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}-{key}" if where else str(key)
            yield place, str(key)
            yield from _strings(item, place)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}-{index}" if where else str(index))


def control_character_errors(pairs: Any) -> dict[str, Message]:
    """The fields whose name or text holds a control character, each with its message."""
    errors: dict[str, Message] = {}
    for where, text in pairs:
        if has_control_characters(text):
            safe = CONTROL.sub("?", where)[:100] or "form"
            errors.setdefault(safe, CONTROL_MESSAGE)
    return errors


async def refuse_control_characters(request: Request) -> None:
    """App-wide dependency: text with a control character is refused (422, naming the field)
    before any handler sees it, whether it came in the path, the query, a form or JSON."""
    pairs: list[tuple[str, str]] = [(k, v) for k, v in request.path_params.items()
                                    if isinstance(v, str)]
    pairs += [(k, k) for k in request.query_params] + list(request.query_params.multi_items())
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        kind = request.headers.get("content-type", "")
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            pairs += [(k, k) for k in form] + [(k, v) for k, v in form.multi_items()
                                               if isinstance(v, str)]
        elif "json" in kind:
            body = await request.body()
            if b"\\u" in body:  # only an escape can carry a control character into JSON
                try:
                    pairs += list(_strings(json.loads(body), ""))
                except ValueError:
                    pass  # not JSON at all: the route's own parsing says so
    errors = control_character_errors(pairs)
    if errors:
        raise ValidationFailed("The text you sent contains a control character (such as NUL) "
                               "that cannot be stored: remove it and send it again.",
                               field_errors=errors)
