"""The current time for request handlers, commands and the clock process: UTC-aware, and pretendable.

Domain functions take `now` as an argument; the edges (routes, commands, the clock process) get it
from `now()`. `app.config["CLOCK"]`, when set, is a callable returning the pretend time: the
terminal phone's `--at` uses it. (Tests move the process's clock with time-machine instead.)
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, has_app_context


def now() -> datetime:
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock() if clock else datetime.now(timezone.utc)
