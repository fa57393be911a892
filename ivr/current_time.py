"""The current time for request handlers, commands and the clock process: UTC-aware, and pretendable.

Domain functions take `now` as an argument; the edges (routes, commands, the clock process) get it
from `now()`. `app.config["CLOCK"]`, when set, is a callable returning the pretend time: the
terminal phone's and the clock process's `--at` set it with `pretend`. (Tests move the process's
clock with time-machine instead.)
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, current_app, has_app_context


def now() -> datetime:
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock() if clock else datetime.now(timezone.utc)


def pretend(app: Flask, moment: datetime, *, running: bool = False) -> None:
    """From now on `app`'s clock says `moment`; with `running`, it starts there and runs on."""
    if not running:
        app.config["CLOCK"] = lambda: moment
        return
    offset = moment - datetime.now(timezone.utc)
    app.config["CLOCK"] = lambda: datetime.now(timezone.utc) + offset
