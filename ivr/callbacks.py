"""Callbacks: which days and windows a caller may choose, booking one, and changing it later.

Shared by the phone line (a caller books) and the staff pages (an officer creates, reschedules,
cancels). Every function takes the session and `now`; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ivr import reminders
from ivr.db.statements import insert_unless_duplicate
from ivr.helpline import CallbackWindow, Helpline
from ivr.hours import OfficeHours, london, london_time
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    AttemptOutcome,
    Callback,
    CallbackEvent,
    CallbackStatus,
    EventKind,
)

OFFERED_DAYS = 5
# A window is offered only while at least this much of it is still ahead.
MIN_NOTICE = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    day: date
    window: CallbackWindow
    starts: datetime  # UTC
    ends: datetime  # UTC


def slot(day: date, window: CallbackWindow) -> Slot:
    return Slot(day, window, london_time(day, window.starts), london_time(day, window.ends))


def open_slots(helpline: Helpline, day: date, now: datetime) -> list[Slot]:
    """The windows on `day` that can still be booked at `now`."""
    return [s for w in helpline.callback_windows if now <= (s := slot(day, w)).ends - MIN_NOTICE]


def offered_days(helpline: Helpline, hours: OfficeHours, now: datetime, count: int = OFFERED_DAYS) -> list[date]:
    """The next `count` working days that still have a window ahead (today included)."""
    days: list[date] = []
    for day in hours.working_days(london(now).date()):
        if open_slots(helpline, day, now):
            days.append(day)
        if len(days) == count:
            return days
    return days  # pragma: no cover - working_days never ends


def book_callback(
    session: Session,
    *,
    region: str,
    phone_number: str,
    is_mobile: bool,
    starts: datetime,
    ends: datetime,
    voicemail_ok: bool,
    texts_ok: bool,
    now: datetime,
    call_sid: str | None = None,
    created_by_id: int | None = None,
) -> int:
    """Store a callback, note it in its history and plan its reminders; its id. Booked by phone
    (`call_sid`) or by an officer (`created_by_id`); texts only ever go to a mobile.

    Twilio may post the booking step twice: the unique call_sid decides, and a repeat stores
    nothing and gives the first booking's id.
    """
    callback_id = insert_unless_duplicate(session, Callback, {
        "call_sid": call_sid, "region": region, "phone_number": phone_number, "is_mobile": is_mobile,
        "window_start": starts, "window_end": ends, "voicemail_ok": voicemail_ok, "texts_ok": texts_ok and is_mobile,
        "status": CallbackStatus.BOOKED, "created_by_id": created_by_id, "created_at": now, "updated_at": now,
    }, "call_sid")
    if callback_id is None:
        return session.scalars(select(Callback.id).where(Callback.call_sid == call_sid)).one()
    session.execute(_NOTE_BOOKED, {"callback_id": callback_id, "at": now, "kind": EventKind.BOOKED,
                                   "detail": "by phone" if call_sid else "by staff", "staff_id": created_by_id})
    reminders.plan_reminders(session, session.get(Callback, callback_id), now)
    return callback_id


_NOTE_BOOKED = insert(CallbackEvent.__table__)


# Callbacks still waiting for our call; once their window has passed they are overdue.
AWAITING_CALL = (CallbackStatus.BOOKED, CallbackStatus.CONFIRMED)


def mark_overdue(session: Session, now: datetime) -> int:
    """Callbacks whose window ended with no outcome recorded: overdue, first in the staff queue."""
    overdue = session.scalars(select(Callback).where(
        Callback.status.in_(AWAITING_CALL), Callback.window_start < now, Callback.window_end <= now)).all()
    for callback in overdue:
        callback.status = CallbackStatus.OVERDUE
        callback.updated_at = now
        session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.OVERDUE,
                                  detail="The window passed with no outcome recorded."))
    return len(overdue)


# --- what staff do with a callback ---------------------------------------------------------------


class CallbackRefused(ValueError):
    """An action the callback's state or the caller's consent does not allow; the message says why."""


ATTEMPT_OUTCOMES = {
    AttemptOutcome.SPOKE: "Spoke to them",
    AttemptOutcome.NO_ANSWER: "No answer",
    AttemptOutcome.NOT_SAFE: "Not safe to talk",
    AttemptOutcome.LEFT_VOICEMAIL: "Left a voicemail",
}


def _require_open(callback: Callback, doing: str) -> None:
    if callback.status not in OPEN_CALLBACK_STATUSES:
        raise CallbackRefused(f"This callback is {callback.status}, so it cannot be {doing}.")


def _record(session: Session, callback: Callback, now: datetime, staff_id: int | None, kind: EventKind,
            outcome: AttemptOutcome | None = None, detail: str = "") -> CallbackEvent:
    event = CallbackEvent(callback=callback, at=now, kind=kind, outcome=outcome, detail=detail, staff_id=staff_id)
    session.add(event)
    callback.updated_at = now
    return event


def describe_window(starts: datetime, ends: datetime) -> str:
    """A window as staff read it in the history, in London time: `Mon 30 Nov 09:00–12:00`."""
    local_start, local_end = london(starts), london(ends)
    return f"{local_start:%a} {local_start.day} {local_start:%b %H:%M}–{local_end:%H:%M}"


def record_attempt(session: Session, callback: Callback, outcome: str, *, now: datetime, staff_id: int,
                   detail: str = "") -> CallbackEvent:
    """Note a call to the victim; a voicemail may be left only if they said it was safe."""
    if outcome not in ATTEMPT_OUTCOMES:
        raise CallbackRefused("Choose what happened on the call.")
    _require_open(callback, "attempted")
    if outcome == AttemptOutcome.LEFT_VOICEMAIL and not callback.voicemail_ok:
        raise CallbackRefused("They did not agree to a voicemail, so one must not be left.")
    return _record(session, callback, now, staff_id, EventKind.ATTEMPT, AttemptOutcome(outcome), detail.strip())


def complete(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """Close a callback that has been done; reminders still to go are cancelled."""
    _require_open(callback, "completed")
    callback.status = CallbackStatus.COMPLETED
    _record(session, callback, now, staff_id, EventKind.COMPLETED)
    reminders.cancel_reminders(session, callback, now)


def cancel(session: Session, callback: Callback, *, now: datetime, staff_id: int, reason: str = "") -> None:
    """Call a callback off; reminders still to go are cancelled."""
    _require_open(callback, "cancelled")
    callback.status = CallbackStatus.CANCELLED
    _record(session, callback, now, staff_id, EventKind.CANCELLED, detail=reason.strip())
    reminders.cancel_reminders(session, callback, now)


def reschedule(session: Session, callback: Callback, new_slot: Slot, *, now: datetime, staff_id: int) -> None:
    """Move a callback to a new window and replan its reminders (the old ones are cancelled)."""
    _require_open(callback, "rescheduled")
    if new_slot.ends - MIN_NOTICE < now:
        raise CallbackRefused("That window has passed or is about to; choose a later one.")
    old = describe_window(callback.window_start, callback.window_end)
    callback.window_start, callback.window_end = new_slot.starts, new_slot.ends
    callback.status = CallbackStatus.BOOKED
    _record(session, callback, now, staff_id, EventKind.RESCHEDULED,
            detail=f"from {old} to {describe_window(new_slot.starts, new_slot.ends)}")
    reminders.replan_reminders(session, callback, now)


def add_note(session: Session, callback: Callback, text: str, *, now: datetime, staff_id: int) -> CallbackEvent:
    """Add a note to the history (allowed on closed callbacks too)."""
    if not text.strip():
        raise CallbackRefused("Write the note first.")
    return _record(session, callback, now, staff_id, EventKind.NOTE, detail=text.strip())


def assign(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """Make `staff_id` the officer responsible for the callback."""
    _require_open(callback, "assigned")
    if callback.assigned_to_id == staff_id:
        return
    callback.assigned_to_id = staff_id
    _record(session, callback, now, staff_id, EventKind.ASSIGNED)
