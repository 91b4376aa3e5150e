"""The id of the request (or scheduler batch) being served, for logs, audit events and mail."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 64
# What we accept from a trusted proxy: no spaces, quotes or control characters, so the id is
# safe in a log line, a mail header and a database column as it stands.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")

_current: ContextVar[str | None] = ContextVar("stepwise_request_id", default=None)


def new_request_id(prefix: str = "") -> str:
    """A fresh id: 24 hex digits (96 random bits), optionally prefixed (`sweep-` for batches)."""
    return f"{prefix}{secrets.token_hex(12)}"


def acceptable(value: str | None) -> bool:
    """Whether an id handed in by a proxy is short and plain enough to carry along."""
    return bool(value) and _ACCEPTABLE.fullmatch(value or "") is not None


def current_request_id() -> str | None:
    """The id of the request or batch this code runs for, or None outside of one."""
    return _current.get()


@contextmanager
def bound_request_id(request_id: str) -> Iterator[str]:
    """Run a block as part of the request or batch `request_id`."""
    token = _current.set(request_id[:MAX_LENGTH])
    try:
        yield request_id
    finally:
        _current.reset(token)
