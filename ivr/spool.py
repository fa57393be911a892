"""What callers and texters sent while the database was unreachable, kept on disk until it answers.

One small JSON file for each recorded message or text, written atomically (a temporary file
renamed into place) and named after its RecordingSid or MessageSid, so Twilio retrying the same
request keeps one copy. The clock's housekeeping stores them (a message as a voicemail, a text as
a reply, acted on as if it had just arrived) once the database answers, and removes the files.
A file that can never be stored is moved to `set-aside/` with an ERROR line, for an operator to
look at; the others are stored all the same. `/healthz` says how many wait.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ivr import calls, replies
from ivr.db.sessions import session_scope

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[A-Za-z0-9]{2,64}")
SET_ASIDE = "set-aside"
# The database did not answer (down, stalled, locked, a lost connection): the file waits for the next try.
_UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def spool_dir(app: Flask) -> Path:
    return Path(app.config["SPOOL_DIR"] or Path(app.instance_path) / "spool")


def keep_message(app: Flask, *, recording_sid: str, recording_url: str | None, duration: int, region: str,
                 call_sid: str | None, from_number: str | None, now: datetime) -> bool:
    """Write a recorded message's details to the spool; False when even that failed."""
    return _keep(app, recording_sid, {
        "kind": "voicemail", "recording_sid": recording_sid, "recording_url": recording_url, "duration": duration,
        "region": region, "call_sid": call_sid, "from_number": from_number, "now": now.isoformat()},
        f"message of call {call_sid}")


def keep_text(app: Flask, *, message_sid: str, from_number: str, body: str, now: datetime) -> bool:
    """Write a text someone sent to the spool; False when even that failed."""
    return _keep(app, message_sid, {"kind": "text", "message_sid": message_sid, "from_number": from_number,
                                    "body": body, "now": now.isoformat()}, f"text {message_sid}")


def _keep(app: Flask, name: str, record: dict[str, Any], what: str) -> bool:
    if not _SAFE_NAME.fullmatch(name):
        return False
    folder = spool_dir(app)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".incoming-", delete=False) as file:
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(file.name, folder / f"{name}.json")
    except OSError as error:
        log.error("could not spool the %s: %s", what, type(error).__name__)
        return False
    log.warning("database unreachable: %s kept in the spool", what)
    return True


def spooled_messages(app: Flask) -> list[Path]:
    """The messages and texts waiting in the spool, oldest name first."""
    folder = spool_dir(app)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def store_spooled_messages(app: Flask) -> int:
    """Store every spooled message and text (once each); how many were stored. Stops at the first
    sign that the database is still unreachable; sets aside a file that can never be stored."""
    stored = 0
    for path in spooled_messages(app):
        try:
            record = json.loads(path.read_text())
            with session_scope(app) as session:
                _store(session, record)
        except FileNotFoundError:
            continue  # another clock sharing the spool stored it just now
        except _UNREACHABLE:
            break  # still unreachable: this file and the rest wait for the next try
        except Exception as error:  # noqa: BLE001 - whatever it is, this file must not hold up the others
            _set_aside(app, path, error)
            continue
        path.unlink(missing_ok=True)
        stored += 1
    if stored:
        log.info("stored %d messages and texts kept in the spool while the database was unreachable", stored)
    return stored


def _store(session, record: dict[str, Any]) -> None:
    now = datetime.fromisoformat(record["now"])
    if record.get("kind", "voicemail") == "text":
        replies.receive_text(session, message_sid=record["message_sid"], from_number=record["from_number"],
                             body=record["body"], now=now)
    else:
        calls.add_voicemail(session, recording_sid=record["recording_sid"], recording_url=record["recording_url"],
                            duration=record["duration"], region=record["region"], call_sid=record["call_sid"],
                            from_number=record["from_number"], now=now)


def _set_aside(app: Flask, path: Path, error: Exception) -> None:
    folder = spool_dir(app) / SET_ASIDE
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        os.replace(path, folder / path.name)
    except OSError as move_error:
        log.error("spooled %s can never be stored (%s), and could not be set aside (%s)", path.name,
                  type(error).__name__, type(move_error).__name__)
        return
    log.error("spooled %s can never be stored (%s): set aside in %s for an operator", path.name,
              type(error).__name__, folder)
