"""Calls as Twilio reports them, and the voicemails callers leave.

Every function takes the session and `now`, and never commits. Twilio retries a webhook that was
slow to answer, so each change here is idempotent: the unique CallSid or RecordingSid decides,
and a repeat finds the row the first one wrote.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ivr.db.statements import insert_unless_duplicate
from ivr.models import Call, CallChoice, CallStatus, CallStep, Voicemail, VoicemailStatus
from ivr.phone import parse_uk

# What Twilio sends as From when the caller withheld or could not give their number.
WITHHELD = frozenset({
    "", "anonymous", "restricted", "unknown", "private", "unavailable", "blocked",
    "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253",
})
CALL_STATUSES = frozenset(CallStatus)
ENDED_STATUSES = frozenset({CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.FAILED, CallStatus.NO_ANSWER,
                            CallStatus.CANCELED})


def caller_number(raw: str | None) -> str | None:
    """The caller's number in E.164, or None when it was withheld or is not a number at all."""
    raw = (raw or "").strip()
    if raw.lower() in WITHHELD:
        return None
    return parse_uk(raw) or (raw if re.fullmatch(r"\+[1-9]\d{6,14}", raw) else None)


def note_call(session: Session, call_sid: str, from_number: str | None, now: datetime) -> None:
    """Add the call the first time Twilio mentions it; a repeat adds nothing."""
    insert_unless_duplicate(session, Call, {"call_sid": call_sid, "from_number": from_number, "started_at": now})


_ADD_STEP = insert(CallStep.__table__)  # built once: it runs on a caller's key press


def note_step(session: Session, call_sid: str, choice: CallChoice, now: datetime) -> None:
    """Count a step of the call (a menu choice, being put through, a team answering) for the figures."""
    session.execute(_ADD_STEP, {"call_sid": call_sid, "choice": choice.value, "at": now})


def find_or_add_call(session: Session, call_sid: str, from_number: str | None, now: datetime) -> Call:
    """The call with this CallSid, added the first time Twilio mentions it."""
    note_call(session, call_sid, from_number, now)
    return session.scalars(select(Call).where(Call.call_sid == call_sid)).one()


def note_region(session: Session, call_sid: str, region: str) -> None:
    """Remember which team the caller asked for."""
    session.execute(update(Call).where(Call.call_sid == call_sid).values(region=region))


def keep_keyed_number(session: Session, call_sid: str, from_number: str | None, number: str, now: datetime) -> None:
    """Hold a number the caller keyed in until they confirm it (it never travels in a URL)."""
    find_or_add_call(session, call_sid, from_number, now).keyed_number = number


def keyed_number(session: Session, call_sid: str) -> str | None:
    return session.scalar(select(Call.keyed_number).where(Call.call_sid == call_sid))


def record_call_end(
    session: Session, call_sid: str, from_number: str | None, status: str, duration: int | None, now: datetime
) -> Call:
    """Note Twilio's latest status for the call; the first report of its end sets when it ended.

    Twilio's callbacks can arrive out of order: an ended call stays ended (a late "in-progress"
    leaves it "completed")."""
    call = find_or_add_call(session, call_sid, from_number, now)
    if status in CALL_STATUSES and call.status not in ENDED_STATUSES:
        call.status = status
    if status in ENDED_STATUSES and call.ended_at is None:
        call.ended_at = now
    if duration is not None:
        call.duration_seconds = duration
    return call


def add_voicemail(
    session: Session,
    *,
    recording_sid: str,
    recording_url: str | None,
    duration: int,
    region: str,
    call_sid: str | None,
    from_number: str | None,
    now: datetime,
) -> int:
    """Store a recorded message as new; its id. The same recording posted again stores nothing and
    gives the first one's id."""
    added = insert_unless_duplicate(session, Voicemail, {
        "recording_sid": recording_sid, "recording_url": recording_url, "duration_seconds": duration,
        "region": region, "call_sid": call_sid, "from_number": from_number, "status": VoicemailStatus.NEW,
        "created_at": now,
    })
    if added is None:
        return session.scalars(select(Voicemail.id).where(Voicemail.recording_sid == recording_sid)).one()
    return added
