"""Callbacks: which days and windows a caller may choose, booking one, and changing it later.

Shared by the phone line (a caller books) and the staff pages (an officer creates, reschedules,
cancels). Every function takes the session and `now`; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Connection, Executable, Integer, bindparam, exists, insert, literal, select, union_all
from sqlalchemy.orm import Session

from ivr import reminders
from ivr.db import INSERTS_WITH_ON_CONFLICT, connection_of, dialect_name, run_on_driver
from ivr.helpline import CallbackWindow, Helpline
from ivr.hours import OfficeHours, london, london_time
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    Callback,
    CallbackEvent,
    CallbackStatus,
    OptOut,
    Reminder,
    ReminderStatus,
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
    runner: Session | Connection,
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
    """Store a callback, note it in its history and plan its reminders; its id. A repeat for the
    same call stores nothing and gives the first one's id.

    The unique call_sid decides: a repeat (Twilio retrying the step) inserts nothing. The reminders
    go in only if the number has not said STOP, checked by their insert itself. On PostgreSQL it is
    all one statement, one round trip, so a caller with nothing else to write may run it as a
    `db.standalone_write`.
    """
    texts_ok = texts_ok and is_mobile
    callback = {"call_sid": call_sid, "region": region, "phone_number": phone_number, "is_mobile": is_mobile,
                "window_start": starts, "window_end": ends, "voicemail_ok": voicemail_ok, "texts_ok": texts_ok,
                "status": CallbackStatus.BOOKED, "created_by_id": created_by_id, "created_at": now, "updated_at": now}
    texts = reminders.planned_texts(starts, ends, now) if texts_ok else []
    parameters = {**callback, "detail": "by phone" if call_sid else "by staff"}
    for i, (kind, due, body) in enumerate(texts):
        parameters |= {f"kind_{i}": kind, f"due_at_{i}": due, f"body_{i}": body}
    # Core statements: the ORM adds nothing to plain inserts but cost. The callback's insert comes
    # first: on SQLite a transaction that reads before it writes cannot wait for another worker's
    # write lock, and fails at once instead.
    first, *rest = _booking(dialect_name(runner), len(texts))
    callback_id = run_on_driver(runner, first, parameters)
    if callback_id is None:
        return connection_of(runner).scalar(select(Callback.id).where(Callback.call_sid == call_sid))
    for statement in rest:
        run_on_driver(runner, statement, {**parameters, "callback_id": callback_id})
    return callback_id


_BOOKED = ("call_sid", "region", "phone_number", "is_mobile", "window_start", "window_end", "voicemail_ok",
           "texts_ok", "status", "created_by_id", "created_at", "updated_at")


@lru_cache(maxsize=None)
def _booking(dialect: str, texts: int) -> tuple[Executable, ...]:
    """The statements that book a callback with `texts` reminders, run in turn: the first returns
    the new callback's id (none for a repeat), the others take it as `callback_id`.

    PostgreSQL runs them as one: the later inserts become common table expressions reading the id
    from the first. Built once: building and compiling them costs more than the database's work.
    """
    table = Callback.__table__
    add_callback = (
        INSERTS_WITH_ON_CONFLICT[dialect](table)
        .values({name: _parameter(table, name) for name in _BOOKED})
        .on_conflict_do_nothing(index_elements=["call_sid"])
        .returning(table.c.id)
    )
    if dialect != "postgresql":
        return (add_callback, *_follow_ups(bindparam("callback_id", type_=Integer), texts))
    booked = add_callback.cte("booked")
    follow_ups = [statement.cte(f"follow_up_{i}") for i, statement in enumerate(_follow_ups(booked.c.id, texts))]
    return (select(booked.c.id).add_cte(*follow_ups),)


def _parameter(table, name: str, key: str | None = None):
    return bindparam(key or name, type_=table.c[name].type)


def _follow_ups(callback_id, texts: int) -> list[Executable]:
    """The history's "booked" line, and the reminders unless the number said STOP."""
    events, planned = CallbackEvent.__table__, Reminder.__table__
    noted = insert(events).from_select(
        ["callback_id", "at", "kind", "detail", "staff_id"],
        select(callback_id, _parameter(events, "at", "created_at"), literal("booked"), _parameter(events, "detail"),
               _parameter(events, "staff_id", "created_by_id")),
    )
    if not texts:
        return [noted]
    not_stopped = ~exists().where(OptOut.__table__.c.phone_number == _parameter(planned, "to_number", "phone_number"))
    rows = [
        select(callback_id, _parameter(planned, "kind", f"kind_{i}"), _parameter(planned, "to_number", "phone_number"),
               _parameter(planned, "due_at", f"due_at_{i}"), _parameter(planned, "useful_until", "window_start"),
               literal(ReminderStatus.PENDING.value), literal(0), _parameter(planned, "body", f"body_{i}"),
               literal(False), _parameter(planned, "updated_at", "created_at")).where(not_stopped)
        for i in range(texts)
    ]
    columns = ["callback_id", "kind", "to_number", "due_at", "useful_until", "status", "attempts", "body",
               "simulated", "updated_at"]
    return [noted, insert(planned).from_select(columns, rows[0] if texts == 1 else union_all(*rows))]


# Callbacks still waiting for our call; once their window has passed they are overdue.
AWAITING_CALL = (CallbackStatus.BOOKED, CallbackStatus.CONFIRMED)


def mark_overdue(session: Session, now: datetime) -> int:
    """Callbacks whose window ended with no outcome recorded: overdue, first in the staff queue."""
    overdue = session.scalars(select(Callback).where(
        Callback.status.in_(AWAITING_CALL), Callback.window_start < now, Callback.window_end <= now)).all()
    for callback in overdue:
        callback.status = CallbackStatus.OVERDUE
        callback.updated_at = now
        session.add(CallbackEvent(callback=callback, at=now, kind="overdue",
                                  detail="The window passed with no outcome recorded."))
    return len(overdue)


# --- what staff do with a callback ---------------------------------------------------------------


class CallbackRefused(ValueError):
    """An action the callback's state or the caller's consent does not allow; the message says why."""


ATTEMPT_OUTCOMES = {
    "spoke": "Spoke to them",
    "no_answer": "No answer",
    "not_safe": "Not safe to talk",
    "left_voicemail": "Left a voicemail",
}


def _require_open(callback: Callback, doing: str) -> None:
    if callback.status not in OPEN_CALLBACK_STATUSES:
        raise CallbackRefused(f"This callback is {callback.status}, so it cannot be {doing}.")


def _record(session: Session, callback: Callback, now: datetime, staff_id: int | None, kind: str,
            outcome: str | None = None, detail: str = "") -> CallbackEvent:
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
    if outcome == "left_voicemail" and not callback.voicemail_ok:
        raise CallbackRefused("They did not agree to a voicemail, so one must not be left.")
    return _record(session, callback, now, staff_id, "attempt", outcome, detail.strip())


def complete(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """Close a callback that has been done; reminders still to go are cancelled."""
    _require_open(callback, "completed")
    callback.status = CallbackStatus.COMPLETED
    _record(session, callback, now, staff_id, "completed")
    reminders.cancel_reminders(session, callback, now)


def cancel(session: Session, callback: Callback, *, now: datetime, staff_id: int, reason: str = "") -> None:
    """Call a callback off; reminders still to go are cancelled."""
    _require_open(callback, "cancelled")
    callback.status = CallbackStatus.CANCELLED
    _record(session, callback, now, staff_id, "cancelled", detail=reason.strip())
    reminders.cancel_reminders(session, callback, now)


def reschedule(session: Session, callback: Callback, new_slot: Slot, *, now: datetime, staff_id: int) -> None:
    """Move a callback to a new window and replan its reminders (the old ones are cancelled)."""
    _require_open(callback, "rescheduled")
    if new_slot.ends - MIN_NOTICE < now:
        raise CallbackRefused("That window has passed or is about to; choose a later one.")
    old = describe_window(callback.window_start, callback.window_end)
    callback.window_start, callback.window_end = new_slot.starts, new_slot.ends
    callback.status = CallbackStatus.BOOKED
    _record(session, callback, now, staff_id, "rescheduled",
            detail=f"from {old} to {describe_window(new_slot.starts, new_slot.ends)}")
    reminders.replan_reminders(session, callback, now)


def add_note(session: Session, callback: Callback, text: str, *, now: datetime, staff_id: int) -> CallbackEvent:
    """Add a note to the history (allowed on closed callbacks too)."""
    if not text.strip():
        raise CallbackRefused("Write the note first.")
    return _record(session, callback, now, staff_id, "note", detail=text.strip())


def assign(session: Session, callback: Callback, *, now: datetime, staff_id: int) -> None:
    """Make `staff_id` the officer responsible for the callback."""
    _require_open(callback, "assigned")
    if callback.assigned_to_id == staff_id:
        return
    callback.assigned_to_id = staff_id
    _record(session, callback, now, staff_id, "assigned")
