"""Logging: one JSON object per line in production (plain text in development), each record
carrying the id of the request or scheduler batch it belongs to."""

from __future__ import annotations

import logging
import sys
from typing import IO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.config import Settings
from app.request_context import current_request_id

# Our own loggers, and uvicorn's (its start-up and error lines join ours in the same format;
# its access log is off: the request line below replaces it).
LOGGERS = ("stepwise", "uvicorn", "apscheduler")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ("levelname", "name", "message", "request_id")


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request or batch id ("-" outside of one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; only add the id when the caller gave none."""
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


def wants_json(settings: Settings) -> bool:
    """JSON when asked for, or by default in production."""
    if settings.log_format == "auto":
        return settings.environment == "production"
    return settings.log_format == "json"


def formatter(settings: Settings) -> logging.Formatter:
    """The JSON or the plain-text formatter the settings ask for."""
    if wants_json(settings):
        return JsonFormatter(list(JSON_FIELDS), timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger"},
                             reserved_attrs=[*RESERVED_ATTRS, "color_message"],
                             json_ensure_ascii=False)
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send our loggers to one handler on stderr in the configured format (safe to repeat:
    the handler installed before is replaced)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(settings))
    handler.addFilter(RequestIdFilter())
    handler.stepwise = True  # type: ignore[attr-defined] - marks the handler as ours
    level = getattr(logging, settings.log_level)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "stepwise", False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        # APScheduler says "job executed" at INFO every tick: only its warnings are news.
        logger.setLevel(max(level, logging.WARNING) if name == "apscheduler" else level)
        logger.propagate = False
    return handler
