"""`serve`'s log lines: one JSON object a line with `--log-format json`, one line per event.

A failure the log reports (a busy or unreachable database, a broken channel) is one line
with its message; a traceback only for a bug in crisiscomm, never for an error crisiscomm
raises on purpose (a CrisisCommError).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc
from crisiscomm.errors import CrisisCommError

if TYPE_CHECKING:
    from crisiscomm.engine.service import Firing

__all__ = ["JsonLogFormatter", "log", "log_failure", "log_firing", "logger"]

logger = logging.getLogger("crisiscomm.serve")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log(level: int, message: str, **fields: Any) -> None:
    """A log line with structured `fields` (the JSON format shows them as keys)."""
    logger.log(level, message, extra={"fields": fields})


def log_failure(level: int, message: str, error: BaseException, **fields: Any) -> None:
    """One line for a failure: `message: the error`; the traceback only for a bug."""
    text = (
        f"{message}: {error}"
        if isinstance(error, CrisisCommError)
        else (f"{message}: {type(error).__name__}: {error}")
    )
    hint = getattr(error, "hint", None)
    if hint:
        fields["hint"] = hint
    bug = not isinstance(error, CrisisCommError)
    logger.log(
        level,
        text,
        exc_info=(type(error), error, error.__traceback__) if bug else None,
        extra={"fields": fields},
    )


def log_firing(firing: Firing) -> None:
    """The line of one timer a firing pass took: fired, already handled, or failed."""
    timer = firing.timer
    fields = {
        "timer": timer.id,
        "incident": timer.incident_id,
        "kind": timer.kind,
        "due_at": format_utc(timer.due_at),
        "late_by_seconds": round(firing.late_by_seconds, 3),
    }
    if firing.error is not None:
        error = firing.error
        log(
            logging.ERROR,
            f"timer failed, it stays due (tried again later): {type(error).__name__}: {error}",
            event="timer.error",
            failures=timer.failures + 1,
            **fields,
        )
    elif firing.fired:
        log(logging.INFO, "timer fired", event="timer.fired", **fields)
    else:
        log(logging.DEBUG, "timer already handled", event="timer.skipped", **fields)
