"""Structured (JSON) log lines and optional error reporting, both carrying the request ID.

The request ID is set per request by core.middleware.RequestIDMiddleware.
"""

from __future__ import annotations

import contextvars
import json
import logging
import warnings
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed through `extra=` and is kept.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id"}
)


current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_request_id", default="-"
)


class RequestIDLogFilter(logging.Filter):
    """Give every log record the ID of the request it belongs to ("-" outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _tag_request_id(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id.get()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_sentry(dsn: str, *, environment: str) -> bool:
    """Start error reporting when sentry-sdk is installed; say so (and go on) when it is not."""
    try:
        import sentry_sdk
    except ImportError:
        warnings.warn(
            "SENTRY_DSN is set but sentry-sdk is not installed; errors are not reported.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,  # partners' e-mails and Tax IDs stay out of the error tracker
        traces_sample_rate=0.0,
        before_send=_tag_request_id,
    )
    return True
