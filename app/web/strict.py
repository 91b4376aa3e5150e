"""API inputs are read strictly: each value must have the JSON type the document states.

Pages post text, so their forms convert ("95" → 95.0); the API does not guess, so a client
learns at once that `false` is no number and `0` no date. Dates stay ISO strings in JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

STRICT = ConfigDict(strict=True)


def _iso_text(value: Any) -> Any:
    """A date comes as its ISO text (or as a date from Python); nothing else is one."""
    if isinstance(value, str | date):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_text)]
