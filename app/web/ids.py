"""Numeric path ids out of the database's key range name nothing: 404, before any query."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Request
from pydantic import Field

from app.errors import NotFound

DIGITS = re.compile(r"[+-]?\d+")
KEY_MAX = 2**31 - 1  # INTEGER keys on PostgreSQL; SQLite's are wider, the narrower one rules


def check_path_ids(request: Request) -> None:
    """App-wide dependency: refuse a numeric path parameter no row can have."""
    for value in request.path_params.values():
        if isinstance(value, str) and DIGITS.fullmatch(value) and abs(int(value)) > KEY_MAX:
            raise NotFound("The page you asked for does not exist, or you may not see it.")


# The one id type of API paths, queries and bodies: a positive key of the narrowest key column
# (PostgreSQL INTEGER), so every id the document allows can be looked up (and is exact as a
# double, which is how JSON tools read bounds). Wider keys widen it here.
Id = Annotated[int, Field(ge=1, le=KEY_MAX)]
