"""Planning reminder texts for callbacks, in London time (DESIGN.md "Texts"):

- "day_before": 11:00 on the calendar day before the window opens;
- "hour_before": one hour before the window opens;
- a planned time inside the quiet hours (20:00-08:00) is brought forward to 19:30 the evening
  the quiet hours began (the latest time that still leaves the clock room to send before 20:00);
- a reminder whose time has already passed at booking is not planned, nor an "hour_before"
  that would not come after the "day_before" one;
- nothing is planned for a caller who did not agree to texts, or for a number that said STOP;
- each is useful until the window opens; after that it is never sent (`ivr.outbox`).

`plan_reminders` is the one place reminders are planned: a booking by phone or by staff, a
reschedule and a START all come through it. Every function takes the session and `now`; none
commits.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from typing import NamedTuple

import jinja2
from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from ivr import wording
from ivr.config import PROJECT_DIR
from ivr.hours import in_quiet_hours, london, london_time, quiet_hours_began
from ivr.models import (
    ON_ITS_WAY,
    Callback,
    CallbackEvent,
    CallbackStatus,
    EventKind,
    OptOut,
    Reminder,
    ReminderStatus,
    TextKind,
    TextsHeld,
)
from ivr.models import ReminderKind as Kind

DAY_BEFORE_AT = time(11)
HOUR_BEFORE_LEAD = timedelta(hours=1)
BEFORE_QUIET_MARGIN = timedelta(minutes=30)
# Only callbacks still expecting our call get texts about it.
TEXTABLE_CALLBACK_STATUSES = (CallbackStatus.BOOKED, CallbackStatus.CONFIRMED)


# --- the words ----------------------------------------------------------------------------------


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT_DIR / "templates" / "sms"),
                              undefined=jinja2.StrictUndefined, autoescape=False)


def render_text(name: str, **values: str) -> str:
    """The words of text `name` (templates/sms/NAME.txt) filled in, on one line."""
    return " ".join(_templates().get_template(f"{name}.txt").render(**values).split())


# --- planning -----------------------------------------------------------------------------------


def _outside_quiet_hours(moment: datetime) -> datetime:
    """`moment`, or if no text may go then, the latest time before it that one may."""
    if not in_quiet_hours(moment):
        return moment
    return quiet_hours_began(moment) - BEFORE_QUIET_MARGIN


def planned_times(window_start: datetime, now: datetime) -> list[tuple[Kind, datetime]]:
    """When each reminder for a window opening at `window_start` should go, booked at `now`."""
    day_before = _outside_quiet_hours(london_time(london(window_start).date() - timedelta(days=1), DAY_BEFORE_AT))
    hour_before = _outside_quiet_hours(window_start - HOUR_BEFORE_LEAD)
    plan: list[tuple[Kind, datetime]] = []
    if now < day_before:
        plan.append((Kind.DAY_BEFORE, day_before))
    if now < hour_before and day_before < hour_before:
        plan.append((Kind.HOUR_BEFORE, hour_before))
    return plan


# Built once: a callback booked by phone plans its reminders while the caller waits.
_OPTED_OUT = select(OptOut.__table__.c.phone_number).where(OptOut.__table__.c.phone_number == bindparam("number"))
_ADD_REMINDERS = insert(Reminder.__table__)
_reminders = Reminder.__table__.c
_ALREADY_GONE_OR_GOING = select(_reminders.kind).where(
    _reminders.to_number == bindparam("number"), _reminders.useful_until == bindparam("window_start"),
    _reminders.status.in_((*ON_ITS_WAY, ReminderStatus.SENT, ReminderStatus.UNKNOWN)))
# Texts not yet handed to Twilio, which a change of plan still stops.
NOT_YET_GONE = (ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.HELD)


class PlannedText(NamedTuple):
    kind: Kind
    due_at: datetime
    body: str


def is_opted_out(session: Session, number: str) -> bool:
    return session.execute(_OPTED_OUT, {"number": number}).first() is not None


def plan_reminders(session: Session, callback: Callback, now: datetime) -> list[PlannedText]:
    """Add the reminders for a stored callback, unless its caller did not agree to texts, its texts
    are held, or the number said STOP; what was planned.

    A reminder of a kind already on its way, sent, or perhaps sent to the number for the same
    window (an earlier booking of it) is not planned again: nobody gets the same text twice.
    """
    if not callback.texts_ok or callback.texts_held or callback.status not in TEXTABLE_CALLBACK_STATUSES \
            or is_opted_out(session, callback.phone_number):
        return []
    words = wording.text_window(callback.window_start, callback.window_end)
    already = set(session.scalars(_ALREADY_GONE_OR_GOING, {"number": callback.phone_number,
                                                            "window_start": callback.window_start}))
    planned = [PlannedText(kind, due, render_text(kind, when=words))
               for kind, due in planned_times(callback.window_start, now) if kind not in already]
    if planned:
        session.execute(_ADD_REMINDERS, [
            {"callback_id": callback.id, "kind": text.kind, "to_number": callback.phone_number, "due_at": text.due_at,
             "useful_until": callback.window_start, "status": ReminderStatus.PENDING, "attempts": 0,
             "body": text.body, "simulated": False, "updated_at": now}
            for text in planned])
        session.expire(callback, ["reminders"])  # read again when next wanted, with these
    return planned


def cancel_reminders(session: Session, callback: Callback, now: datetime) -> int:
    """Cancel a callback's reminders that have not gone yet, claimed ones included (the clock then
    finds them gone); return how many. An officer's text is not a reminder: the clock judges it
    when it falls due (ivr.outbox.why_held)."""
    return _cancel_not_yet_gone(session, _reminders_of(callback), now)


def _reminders_of(callback: Callback):
    return and_(Reminder.callback_id == callback.id, Reminder.kind != TextKind.STAFF)


def _cancel_not_yet_gone(session: Session, condition, now: datetime) -> int:
    result = session.execute(
        update(Reminder).where(condition, Reminder.status.in_(NOT_YET_GONE))
        .values(status=ReminderStatus.CANCELLED, updated_at=now),
        execution_options={"synchronize_session": "fetch"},
    )
    return result.rowcount


def replan_reminders(session: Session, callback: Callback, now: datetime) -> list[PlannedText]:
    """After a reschedule, a START or texts resuming: the reminders not yet gone are cancelled and
    new ones planned."""
    session.flush()
    cancel_reminders(session, callback, now)
    return plan_reminders(session, callback, now)


HOLD_NOTES = {
    TextsHeld.NOT_SAFE: "Not safe to talk: no texts will go until an officer decides they may.",
    TextsHeld.REPLY: "They replied by text: no texts will go until an officer has read the reply.",
}


def hold_texts(session: Session, callback: Callback, reason: TextsHeld, now: datetime,
               staff_id: int | None = None) -> None:
    """Stop every text about the callback, claimed ones included, until an officer decides again
    (`resume_texts`, or a reschedule). Not being safe to talk outweighs a reply waiting to be read."""
    if callback.texts_held == TextsHeld.NOT_SAFE or callback.texts_held == reason:
        return
    callback.texts_held = reason
    session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.TEXTS_HELD, detail=HOLD_NOTES[reason],
                              staff_id=staff_id))
    session.flush()
    session.execute(
        update(Reminder).where(_reminders_of(callback),
                               Reminder.status.in_((ReminderStatus.PENDING, ReminderStatus.CLAIMED)))
        .values(status=ReminderStatus.HELD, updated_at=now),
        execution_options={"synchronize_session": "fetch"},
    )


def resume_texts(session: Session, callback: Callback, now: datetime, staff_id: int | None,
                 detail: str = "An officer decided texts may go again.") -> list[PlannedText]:
    """An officer lifts a hold: the reminders still useful are planned again."""
    callback.texts_held = None
    session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.TEXTS_RESUMED, detail=detail,
                              staff_id=staff_id))
    return replan_reminders(session, callback, now)


def open_callbacks_of(session: Session, number: str) -> list[Callback]:
    return list(session.scalars(select(Callback).where(
        Callback.phone_number == number, Callback.status.in_(TEXTABLE_CALLBACK_STATUSES))))


def opt_out(session: Session, number: str, now: datetime) -> int:
    """Stop every text to `number` (it said STOP, or Twilio says it did); return reminders cancelled."""
    if not is_opted_out(session, number):
        session.add(OptOut(phone_number=number, opted_out_at=now))
        for callback in open_callbacks_of(session, number):
            session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.TEXTS_STOPPED,
                                      detail="Replied STOP: no more texts will be sent to this number."))
    session.flush()
    return _cancel_not_yet_gone(session, Reminder.to_number == number, now)


def opt_in(session: Session, number: str, now: datetime) -> list[PlannedText]:
    """Undo a STOP: texts may go again, and reminders for callbacks still ahead are planned anew."""
    if not session.execute(delete(OptOut).where(OptOut.phone_number == number)).rowcount:
        return []
    planned: list[PlannedText] = []
    for callback in open_callbacks_of(session, number):
        session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.TEXTS_RESTARTED,
                                  detail="Replied START: texts may be sent again."))
        planned += replan_reminders(session, callback, now)
    return planned
