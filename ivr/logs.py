"""Logging: readable lines in development, one JSON object a line in production.

Nothing personal goes in a log line: callers' numbers go through `ivr.phone.mask` first, and the
twilio SDK's own request logging (which prints numbers and message bodies) is kept quiet, and so
is urllib3's beneath it (at DEBUG it writes every URL it requests, a recording's included).

Neither format lets a logged value forge a line: JSON escapes it, and the text format writes
control characters in a message as escapes (`\\n`), so a CallSid holding a newline stays on its
line. Only the handler on the root logger is ours: gunicorn's loggers keep their own handlers and
formats, and records keep everything gunicorn's formats read (`%(process)d`).

Security events (`security_event`) go to the `ivr.security` logger with their fields: in JSON each
field is a key, in text they follow the event's name as key=value.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

# Loggers that would write what callers sent or where their recordings are, even at LOG_LEVEL=DEBUG.
QUIETENED = ("twilio.http_client", "urllib3", "alembic.runtime.plugins")
# APScheduler says "Running job ..." and "... executed successfully" for every tick (8 lines a
# minute from each clock); the clock logs what a pass did itself, so only its problems are kept.
ONLY_PROBLEMS = ("apscheduler",)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
security_log = logging.getLogger("ivr.security")


def escape_controls(text: str) -> str:
    """`text` on one line: newlines and other control characters written as escapes."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m[0]) or f"\\x{ord(m[0]):02x}", text)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message`, the message kept to one line (a traceback follows on its own lines)."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        # record.message is set afresh from msg and args by every format(), so this changes no other handler's line.
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def security_event(event: str, level: int = logging.WARNING, **fields: object) -> None:
    """Log a security event for operators, e.g. `security_event("sign_in_refused", limit="address")`.

    Fields are our own values (ids, names, keyed hashes), never text a request sent and never a
    person's email address or number.
    """
    detail = " ".join(f"{name}={value}" for name, value in fields.items())
    security_log.log(level, f"{event} {detail}".rstrip(), extra={"event": event, **fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(log_format: str, level: str) -> None:
    """Set up the root logger once per process (the app factory may run many times in tests)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_ivr", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._ivr = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.setLevel(level)
    for chatty in (*QUIETENED, *ONLY_PROBLEMS):
        logging.getLogger(chatty).setLevel(logging.WARNING)


@contextmanager
def only_errors() -> Iterator[None]:
    """Meanwhile, only errors reach our handler: a command whose output is a transcript (the terminal
    phone) keeps the app's routine lines out of it."""
    handlers = [handler for handler in logging.getLogger().handlers if getattr(handler, "_ivr", False)]
    levels = [handler.level for handler in handlers]
    for handler in handlers:
        handler.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)
