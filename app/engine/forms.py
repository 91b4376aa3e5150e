"""Form validation for workflow actions: each field checked against its spec, errors per field."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.engine.definitions import FieldSpec, WorkflowSpec
from app.errors import ValidationFailed
from app.i18n import Message


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_field(spec: FieldSpec, value: Any) -> Any:
    """The typed value of one field, or ValueError carrying a Message that says why not."""
    if spec.type in ("text", "textarea"):
        text = str(value).strip()
        if len(text) > spec.max_length:
            raise ValueError(Message("At most {n} characters.", {"n": spec.max_length}))
        return text
    if spec.type == "choice":
        key = str(value)
        if key not in spec.choices:
            raise ValueError(Message("Choose one of the offered options."))
        return key
    if spec.type == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(Message("Enter a date as YYYY-MM-DD.")) from None
    if spec.type == "number":
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(Message("Enter a number.")) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(Message("Enter a number."))
        if spec.min is not None and number < spec.min:
            raise ValueError(Message("At least {n}.", {"n": spec.min}))
        if spec.max is not None and number > spec.max:
            raise ValueError(Message("At most {n}.", {"n": spec.max}))
        return int(number) if number.is_integer() else number
    # bool
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def validate_form(spec: WorkflowSpec, names: list[str], payload: dict[str, Any]) -> dict[str, Any]:
    """The cleaned values of an action's form; ValidationFailed with every field's error."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, Message] = {}
    for name in names:
        field = spec.fields[name]
        raw = payload.get(name)
        if _blank(raw) and field.type != "bool":
            if field.required:
                errors[name] = Message("This field is required.")
            continue
        try:
            cleaned[name] = clean_field(field, raw)
        except ValueError as exc:
            errors[name] = exc.args[0]
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    return cleaned
