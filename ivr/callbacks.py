"""Callbacks: which days and windows a caller may choose, booking one, and changing it later.

Shared by the phone line (a caller books) and the staff pages (an officer creates, reschedules,
cancels). Every function takes the session and `now`; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ivr import reminders, wording
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
    NumberSource,
    TextsHeld,
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


def open_slots(helpline: Helpline, day: date, now: datetime, hours: OfficeHours | None = None) -> list[Slot]:
    """The windows on `day` that can still be booked at `now`; within a team's own `hours`, each
    window cut to them (a team that closes at 4pm is called back between 12 noon and 4pm)."""
    windows = helpline.callback_windows if hours is None else within_hours(helpline.callback_windows, hours)
    return [s for w in windows if now <= (s := slot(day, w)).ends - MIN_NOTICE]


def within_hours(windows: tuple[CallbackWindow, ...], hours: OfficeHours) -> tuple[CallbackWindow, ...]:
    """The callback windows, each cut to the opening hours; a window outside them is dropped."""
    cut = (replace(w, starts=max(w.starts, hours.opens), ends=min(w.ends, hours.closes)) for w in windows)
    return tuple(w for w in cut if w.starts < w.ends)


def offered_days(helpline: Helpline, hours: OfficeHours, now: datetime, count: int = OFFERED_DAYS) -> list[date]:
    """The next `count` working days that still have a window ahead (today included)."""
    days: list[date] = []
    for day in hours.working_days(london(now).date()):
        if open_slots(helpline, day, now, hours):
            days.append(day)
        if len(days) == count:
            return days
    return days  # pragma: no cover - working_days never ends


class Booked(NamedTuple):
    callback_id: int
    already: bool  # the number already had this window booked (by another call, or by staff)


def book_callback(
    session: Session,
    *,
    region: str,
    phone_number: str,
    number_source: NumberSource,
    is_mobile: bool,
    starts: datetime,
    ends: datetime,
    voicemail_ok: bool,
    texts_ok: bool,
    now: datetime,
    call_sid: str | None = None,
    created_by_id: int | None = None,
    interpreter_language: str | None = None,
) -> Booked:
    """Store a callback, note it in its history and plan its reminders. Booked by phone
    (`call_sid`) or by an officer (`created_by_id`). Texts only ever go to a mobile, and never
    unasked to a number keyed in during a call: it may be someone else's (an officer who has
    spoken to them can turn texts on, `allow_texts`).

    One booking per person and window: when the number already has an open callback for the
    window, nothing is stored and that one is given, `already`. Twilio may post the booking step
    twice: the same call's booking is given again, not `already`.
    """
    texts_ok = texts_ok and is_mobile and number_source != NumberSource.KEYED
    values = {
        "call_sid": call_sid, "region": region, "phone_number": phone_number, "number_source": number_source,
        "is_mobile": is_mobile, "window_start": starts, "window_end": ends, "voicemail_ok": voicemail_ok,
        "texts_ok": texts_ok, "status": CallbackStatus.BOOKED, "created_by_id": created_by_id,
        "created_at": now, "updated_at": now, "interpreter_language": interpreter_language,
    }
    callback_id = insert_unless_duplicate(session, Callback, values)
    if callback_id is None:
        if call_sid and (same_call := session.scalar(select(Callback.id).where(Callback.call_sid == call_sid))):
            return Booked(same_call, already=False)
        return Booked(session.scalars(select(Callback.id).where(
            Callback.phone_number == phone_number, Callback.window_start == starts,
            Callback.status.in_(OPEN_CALLBACK_STATUSES))).one(), already=True)
    session.execute(_NOTE_BOOKED, {"callback_id": callback_id, "at": now, "kind": EventKind.BOOKED,
                                   "detail": "by phone" if call_sid else "by staff", "staff_id": created_by_id})
    reminders.plan_reminders(session, session.get(Callback, callback_id), now)
    return Booked(callback_id, already=False)


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




def record_attempt(session: Session, callback: Callback, outcome: str, *, now: datetime, staff_id: int,
                   detail: str = "") -> CallbackEvent:
    """Note a call to the victim; a voicemail may be left only if they said it was safe."""
    if outcome not in ATTEMPT_OUTCOMES:
        raise CallbackRefused("Choose what happened on the call.")
    _require_open(callback, "attempted")
    if outcome == AttemptOutcome.LEFT_VOICEMAIL and not callback.voicemail_ok:
        raise CallbackRefused("They did not agree to a voicemail, so one must not be left.")
    event = _record(session, callback, now, staff_id, EventKind.ATTEMPT, AttemptOutcome(outcome), detail.strip())
    if outcome == AttemptOutcome.NOT_SAFE:
        reminders.hold_texts(session, callback, TextsHeld.NOT_SAFE, now, staff_id)
    return event


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
    """Move a callback to a new window and replan its reminders (the old ones are cancelled). An
    officer rearranging the call has decided again: texts that were held may go."""
    _require_open(callback, "rescheduled")
    if new_slot.ends - MIN_NOTICE < now:
        raise CallbackRefused("That window has passed or is about to; choose a later one.")
    if new_slot.starts != callback.window_start and session.scalar(select(Callback.id).where(
            Callback.phone_number == callback.phone_number, Callback.window_start == new_slot.starts,
            Callback.status.in_(OPEN_CALLBACK_STATUSES))):
        raise CallbackRefused("This number already has a callback booked at that time.")
    today = london(now).date()
    old = wording.window(callback.window_start, callback.window_end, today)
    callback.window_start, callback.window_end = new_slot.starts, new_slot.ends
    callback.status = CallbackStatus.BOOKED
    _record(session, callback, now, staff_id, EventKind.RESCHEDULED,
            detail=f"from {old} to {wording.window(new_slot.starts, new_slot.ends, today)}")
    if callback.texts_held:
        reminders.resume_texts(session, callback, now, staff_id, detail="Rescheduled by an officer: texts may go.")
    else:
        reminders.replan_reminders(session, callback, now)


def texts_may_resume(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """An officer decides texts held for this callback may go again."""
    _require_open(callback, "changed")
    if not callback.texts_held:
        raise CallbackRefused("No texts are held for this callback.")
    reminders.resume_texts(session, callback, now, staff_id)


def mark_replies_read(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """An officer has read the victim's replies: texts held only for them may go again."""
    _record(session, callback, now, staff_id, EventKind.REPLY_READ, detail="Replies read by an officer.")
    if callback.texts_held == TextsHeld.REPLY and callback.status in OPEN_CALLBACK_STATUSES:
        reminders.resume_texts(session, callback, now, staff_id, detail="The reply was read: texts may go again.")


def allow_texts(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """An officer who has spoken to the person turns text reminders on for their number."""
    _require_open(callback, "changed")
    if not callback.is_mobile:
        raise CallbackRefused("Texts can only go to a mobile number.")
    if callback.texts_ok:
        raise CallbackRefused("Text reminders are already on for this callback.")
    if reminders.is_opted_out(session, callback.phone_number):
        raise CallbackRefused("This number replied STOP, so no texts can go to it until it replies START.")
    callback.texts_ok = True
    _record(session, callback, now, staff_id, EventKind.TEXTS_ALLOWED,
            detail="An officer who spoke to them turned text reminders on.")
    reminders.replan_reminders(session, callback, now)


def set_via_relay(session: Session, callback: Callback, via_relay: bool, *, now: datetime, staff_id: int) -> None:
    """An officer marks the callback "call via Relay UK (18002)" (they use a textphone), or unmarks it."""
    _require_open(callback, "changed")
    if callback.via_relay == via_relay:
        return
    callback.via_relay = via_relay
    _record(session, callback, now, staff_id, EventKind.NOTE,
            detail="Marked: call via Relay UK (18002)." if via_relay else "No longer to be called via Relay UK.")


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
