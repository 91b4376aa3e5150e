"""API inputs are read strictly: each value must have the JSON type the document states.

Pages post text, so their forms convert ("95" → 95.0); the API does not guess, so a client
learns at once that `false` is no number and `0` no date. A whole number may be written 3 or
3.0 (JSON's integers), a date is its ISO text.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import UploadFile
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from app.web.ids import KEY_MAX

STRICT = ConfigDict(strict=True)


def _iso_text(value: Any) -> Any:
    """A date comes as its ISO text (or as a date from Python); nothing else is one."""
    if isinstance(value, str | date):
        return value
    raise PydanticCustomError("date_type", "Input should be a valid date")


def _json_integer(value: Any) -> Any:
    """A whole number comes as a JSON number (3 or 3.0), never as text or true/false."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


IsoDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_text)]
JsonInt = Annotated[int, Field(strict=False), BeforeValidator(_json_integer)]
# An id in a request body: a JSON whole number in the key range (paths and queries use Id).
BodyId = Annotated[int, Field(strict=False, ge=1, le=KEY_MAX), BeforeValidator(_json_integer)]


def json_int(low: int, high: int | None = None) -> Any:
    """A JSON whole number between two bounds (the bounds stated in the document)."""
    return Annotated[int, Field(strict=False, ge=low, le=high), BeforeValidator(_json_integer)]


# A route takes it as `upload: Annotated[FileUpload, File()]` (multipart/form-data).
class FileUpload(BaseModel):
    """One file and nothing else: a form, like a JSON body, refuses fields it does not name."""

    model_config = ConfigDict(extra="forbid")

    file: UploadFile
