"""Messages left while the database was unreachable, kept on disk until it answers again.

One small JSON file a recording, written atomically (a temporary file renamed into place) and
named after the RecordingSid, so Twilio retrying the same step keeps one copy. The clock's
housekeeping stores them as voicemails once the database answers, and removes the files;
`/healthz` says how many wait.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ivr import calls
from ivr.db.sessions import session_scope

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[A-Za-z0-9]{2,64}")


def spool_dir(app: Flask) -> Path:
    return Path(app.config["SPOOL_DIR"] or Path(app.instance_path) / "spool")


def keep_message(app: Flask, *, recording_sid: str, recording_url: str | None, duration: int, region: str,
                 call_sid: str | None, from_number: str | None, now: datetime) -> bool:
    """Write a message's details to the spool; False when even that failed."""
    if not _SAFE_NAME.fullmatch(recording_sid):
        return False
    record = {"recording_sid": recording_sid, "recording_url": recording_url, "duration": duration,
              "region": region, "call_sid": call_sid, "from_number": from_number, "now": now.isoformat()}
    folder = spool_dir(app)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".incoming-", delete=False) as file:
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(file.name, folder / f"{recording_sid}.json")
    except OSError as error:
        log.error("could not spool the message of call %s: %s", call_sid, type(error).__name__)
        return False
    log.warning("database unreachable: message of call %s kept in the spool", call_sid)
    return True


def spooled_messages(app: Flask) -> list[Path]:
    """The messages waiting in the spool, oldest name first."""
    folder = spool_dir(app)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def store_spooled_messages(app: Flask) -> int:
    """Store every spooled message as a voicemail (once each); how many were stored."""
    stored = 0
    for path in spooled_messages(app):
        try:
            record = json.loads(path.read_text())
            with session_scope(app) as session:
                calls.add_voicemail(session, recording_sid=record["recording_sid"],
                                    recording_url=record["recording_url"], duration=record["duration"],
                                    region=record["region"], call_sid=record["call_sid"],
                                    from_number=record["from_number"], now=datetime.fromisoformat(record["now"]))
        except SQLAlchemyError:
            return stored  # still unreachable: the files wait for the next try
        except Exception as error:  # a fault in storing must not stop the health check or the clock
            log.error("could not store spooled message %s: %s", path.name, type(error).__name__)
            return stored
        path.unlink()
        stored += 1
    if stored:
        log.info("stored %d messages kept in the spool while the database was unreachable", stored)
    return stored
