"""Callbacks: which days and windows a caller may choose, booking one, and changing it later.

Shared by the phone line (a caller books) and the staff pages (an officer creates, reschedules,
cancels). Every function takes the session and `now`; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr import reminders
from ivr.helpline import CallbackWindow, Helpline
from ivr.hours import OfficeHours, london, london_time
from ivr.models import Callback, CallbackEvent, CallbackStatus

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
) -> Callback:
    """Store a callback and plan its reminders; a repeat for the same call returns the first one."""
    if call_sid is not None:
        existing = session.scalar(select(Callback).where(Callback.call_sid == call_sid))
        if existing is not None:
            return existing
    callback = Callback(
        call_sid=call_sid,
        region=region,
        phone_number=phone_number,
        is_mobile=is_mobile,
        window_start=starts,
        window_end=ends,
        voicemail_ok=voicemail_ok,
        texts_ok=texts_ok and is_mobile,
        status=CallbackStatus.BOOKED,
        created_by_id=created_by_id,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(callback)
            session.flush()
    except IntegrityError:
        # Twilio retried the same step concurrently and the other request stored it first.
        return session.scalars(select(Callback).where(Callback.call_sid == call_sid)).one()
    session.add(CallbackEvent(callback=callback, at=now, kind="booked",
                              detail="by phone" if call_sid else "by staff", staff_id=created_by_id))
    reminders.plan_reminders(session, callback, now)
    return callback


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
