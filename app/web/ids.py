"""The one id type of every edge (paths, query strings, forms, JSON): ASCII digits, 1…2^31−1.

An id is a database key: a positive integer in the range of the narrowest key column (INTEGER
on PostgreSQL), written with the ASCII digits 0-9. Other
digit characters (`²`, `٣`), signs, spaces, underscores, fractions and numbers past the key
range name nothing. Paths answer 404 for them before any query; form and JSON fields get a
field error (422); nothing ever reaches int() unchecked, so no input can make a 500.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Request
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from app.errors import NotFound, ValidationFailed
from app.i18n import Message

# Keys are INTEGER columns: 32 bits on PostgreSQL (SQLite's are wider; the narrower one rules),
# so every id the API document allows can be looked up rather than overflow the query.
ID_MAX = 2**31 - 1
KEY_MAX = ID_MAX  # the bound stated for ids in JSON bodies and cursors too
_ID_TEXT = re.compile(r"[0-9]{1,19}")  # [0-9], never \d: \d also matches ² and ٣
NOT_AN_ID = Message("Choose one of the offered options.")


def parse_id(value: object) -> int | None:
    """The id a text or number stands for, or None when it is not a valid id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= ID_MAX else None
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        number = int(value)  # at most 19 ASCII digits: int() is cheap and cannot fail
        return number if 1 <= number <= ID_MAX else None
    return None


def _validated_id(value: Any) -> int:
    """Pydantic hook for `Id`: the parsed id, or a field error."""
    found = parse_id(value.strip() if isinstance(value, str) else value)
    if found is None:
        raise PydanticCustomError("id_invalid", "Not a valid id: 1 to 2^31-1 in ASCII digits")
    return found


# Use in pydantic models and route signatures alike: `person_id: Id`, `task_ids: list[Id]`.
Id = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_validated_id)]


def form_id(values: dict[str, str], name: str, *, required: bool = False) -> int | None:
    """An id posted in a form field: None when left blank (unless required), else a field
    error naming the field."""
    text = str(values.get(name) or "").strip()
    if not text and not required:
        return None
    found = parse_id(text)
    if found is None:
        message = Message("This field is required.") if not text else NOT_AN_ID
        raise ValidationFailed("Please correct the marked fields.", field_errors={name: message})
    return found


def form_ids(items: list[tuple[str, str]], name: str) -> list[int]:
    """Every id posted under a repeated field name (checkboxes); a bad one is a field error."""
    found = [parse_id(value.strip()) for key, value in items if key == name]
    if any(item is None for item in found):
        raise ValidationFailed("Please correct the marked fields.",
                               field_errors={name: NOT_AN_ID})
    return [item for item in found if item is not None]


def _id_params(route: Any) -> tuple[str, ...]:
    """The path parameters a route declares as integers: each must be a valid id (worked
    out once per route and kept on it)."""
    known = getattr(route, "_id_params", None)
    if known is not None:
        return known
    names: list[str] = []
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        names += [param.name for param in dependant.path_params
                  if param.field_info.annotation is int]
        pending += dependant.dependencies
    route._id_params = tuple(dict.fromkeys(names))
    return route._id_params


async def check_path_ids(request: Request) -> None:
    """App-wide dependency: a path id that no row can have names nothing (404, no query)."""
    # async: pure CPU, so it runs on the event loop rather than hopping to the thread pool
    route = request.scope.get("route")
    for name in _id_params(route) if route is not None else ():
        if parse_id(request.path_params.get(name)) is None:
            raise NotFound("The page you asked for does not exist, or you may not see it.")

