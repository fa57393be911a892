"""Logging: readable lines in development, one JSON object a line in production.

Nothing personal goes in a log line: callers' numbers go through `ivr.phone.mask` first, and the
twilio SDK's own request logging (which prints numbers and message bodies) is kept quiet, and so
is urllib3's beneath it (at DEBUG it writes every URL it requests, a recording's included).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

# Loggers that would write what callers sent or where their recordings are, even at LOG_LEVEL=DEBUG.
QUIETENED = ("twilio.http_client", "urllib3", "alembic.runtime.plugins")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


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
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.setLevel(level)
    for chatty in QUIETENED:
        logging.getLogger(chatty).setLevel(logging.WARNING)
