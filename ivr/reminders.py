"""Reminder texts for callbacks: planning them as rows, the queue the clock claims from, and
what happened to each send.

Planning rules (DESIGN.md "Texts"), all in London time:

- "day_before": 11:00 on the calendar day before the window opens;
- "hour_before": one hour before the window opens;
- a planned time inside the quiet hours (20:00-08:00) is brought forward to 19:30 the evening
  the quiet hours began (the latest time that still leaves the clock room to send before 20:00);
- a reminder whose time has already passed at booking is not planned, nor an "hour_before"
  that would not come after the "day_before" one;
- each is useful until the window opens; after that it is never sent (marked missed).

A reminder's life: pending -> claimed (a clock process took it; nothing sent yet) -> sending
(handed to Twilio) -> sent | failed | unknown; or pending -> cancelled | missed. A row left in
"claimed" by a crash goes back to pending; one left in "sending" may have gone, so it becomes
"unknown" and staff are told: it is never resent automatically.

Every function takes the session and `now`; none commits, except that the clock commits a claim
before it sends.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

import jinja2
from sqlalchemy import Connection, Row, case, insert, select, update
from sqlalchemy.orm import Session, joinedload

from ivr.config import PROJECT_DIR
from ivr.hours import in_quiet_hours, london, london_time, quiet_hours_began
from ivr.models import (
    Callback,
    CallbackEvent,
    CallbackStatus,
    OptOut,
    Reminder,
    ReminderStatus,
)


class Kind(StrEnum):
    DAY_BEFORE = "day_before"
    HOUR_BEFORE = "hour_before"


DAY_BEFORE_AT = time(11)
HOUR_BEFORE_LEAD = timedelta(hours=1)
BEFORE_QUIET_MARGIN = timedelta(minutes=30)
# Twilio holds a text in its queue at most this long (ValidityPeriod may be 1..36,000 seconds);
# a reminder with less than MIN_USEFUL left is not worth sending.
MAX_VALIDITY = timedelta(seconds=36_000)
MIN_USEFUL = timedelta(minutes=1)
# Only callbacks still expecting our call get texts about it.
TEXTABLE_CALLBACK_STATUSES = (CallbackStatus.BOOKED, CallbackStatus.CONFIRMED)
ADD_REMINDERS = insert(Reminder.__table__).returning(*Reminder.__table__.c, sort_by_parameter_order=True)


# --- the words ----------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    # auto_reload off: the words are read once, not checked on disk before every text.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT_DIR / "templates" / "sms"),
                              undefined=jinja2.StrictUndefined, autoescape=False, auto_reload=False)


def render_text(name: str, **values: str) -> str:
    """The words of text `name` (templates/sms/NAME.txt) filled in, on one line."""
    return " ".join(_templates().get_template(f"{name}.txt").render(**values).split())


def clock_face(moment: datetime) -> str:
    """A London time the way people write it: 9am, 9.30am, 12 noon, 5pm."""
    local = london(moment)
    if (local.hour, local.minute) == (12, 0):
        return "12 noon"
    if (local.hour, local.minute) == (0, 0):
        return "12 midnight"
    hour = local.hour % 12 or 12
    minutes = f".{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def when_text(starts: datetime, ends: datetime) -> str:
    """A callback window in London time, e.g. "Mon 30 Nov, 9am-12 noon"."""
    local = london(starts)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}, {clock_face(starts)}-{clock_face(ends)}"


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


def planned_texts(window_start: datetime, window_end: datetime, now: datetime) -> list[tuple[Kind, datetime, str]]:
    """Each reminder to plan for a window booked at `now`: its kind, when it goes, and its words."""
    return [(kind, due, _reminder_words(kind, window_start, window_end))
            for kind, due in planned_times(window_start, now)]


@lru_cache(maxsize=256)
def _reminder_words(kind: Kind, window_start: datetime, window_end: datetime) -> str:
    """A reminder's words, rendered once per window: callers book the same few windows all day."""
    return render_text(kind, when=when_text(window_start, window_end))


def is_opted_out(session: Session, number: str) -> bool:
    return session.get(OptOut, number) is not None


def plan_reminders(session: Session, callback: Callback, now: datetime) -> Sequence[Row]:
    """Plan the reminder rows for a stored callback, if its caller agreed to texts and not STOP; the rows added."""
    if not callback.texts_ok or is_opted_out(session, callback.phone_number):
        return []
    rows = [
        {"callback_id": callback.id, "kind": kind, "to_number": callback.phone_number, "due_at": due,
         "useful_until": callback.window_start, "status": ReminderStatus.PENDING, "body": body, "updated_at": now}
        for kind, due, body in planned_texts(callback.window_start, callback.window_end, now)
    ]
    if not rows:
        return []
    # One INSERT for all of them, not the ORM's flush; a list of reminders already read would
    # not show them, so it is read again when next used.
    planned = session.execute(ADD_REMINDERS, rows).all()
    session.expire(callback, ["reminders"])
    return planned


def _cancel_pending(session: Session, condition, now: datetime) -> int:
    result = session.execute(
        update(Reminder).where(condition, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, updated_at=now),
        execution_options={"synchronize_session": "fetch"},
    )
    return result.rowcount


def cancel_reminders(session: Session, callback: Callback, now: datetime) -> int:
    """Cancel a callback's reminders that have not gone yet; return how many."""
    return _cancel_pending(session, Reminder.callback_id == callback.id, now)


def replan_reminders(session: Session, callback: Callback, now: datetime) -> Sequence[Row]:
    """After a reschedule: the old reminders are cancelled and new ones planned for the new window."""
    session.flush()
    cancel_reminders(session, callback, now)
    return plan_reminders(session, callback, now)


def open_callbacks_of(session: Session, number: str) -> Sequence[Callback]:
    return session.scalars(select(Callback).where(
        Callback.phone_number == number, Callback.status.in_(TEXTABLE_CALLBACK_STATUSES))).all()


def opt_out(session: Session, number: str, now: datetime) -> int:
    """Stop every text to `number` (it said STOP, or Twilio says it did); return reminders cancelled."""
    if not is_opted_out(session, number):
        session.add(OptOut(phone_number=number, opted_out_at=now))
        for callback in open_callbacks_of(session, number):
            session.add(CallbackEvent(callback=callback, at=now, kind="texts_stopped",
                                      detail="Replied STOP: no more texts will be sent to this number."))
    session.flush()
    return _cancel_pending(session, Reminder.to_number == number, now)


def opt_in(session: Session, number: str, now: datetime) -> list[Row]:
    """Undo a STOP: texts may go again, and reminders for callbacks still ahead are planned anew."""
    opted_out = session.get(OptOut, number)
    if opted_out is None:
        return []
    session.delete(opted_out)
    session.flush()
    planned: list[Row] = []
    for callback in open_callbacks_of(session, number):
        session.add(CallbackEvent(callback=callback, at=now, kind="texts_restarted",
                                  detail="Replied START: texts may be sent again."))
        planned += replan_reminders(session, callback, now)
    return planned


# --- the queue ----------------------------------------------------------------------------------


def mark_missed(session: Session, now: datetime) -> int:
    """Reminders that fell due but were not sent before their window opened: never sent now."""
    result = session.execute(
        update(Reminder).where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now,
                               Reminder.useful_until <= now + MIN_USEFUL)
        .values(status=ReminderStatus.MISSED, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def due_reminders(session: Session, now: datetime, limit: int):
    """The ids of the oldest `limit` reminders due by `now` (the claim's inner query)."""
    due = (select(Reminder.id)
           .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
           .order_by(Reminder.due_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return due


def claim_due_reminders(session: Session, now: datetime, limit: int, worker: str) -> list[int]:
    """Take up to `limit` due reminders for `worker`, oldest first; no other worker gets them.

    One conditional UPDATE: on SQLite the write lock makes it atomic; on PostgreSQL the inner
    SELECT locks its rows and skips those another worker is claiming at that moment. Both walk
    the index ix_reminders_status_due. The caller commits before sending anything.

    """
    due = due_reminders(session, now, limit)
    if session.get_bind().dialect.name == "postgresql":
        # As `IN (subquery)` PostgreSQL may run the inner query again while updating and claim
        # several batches at once (starving the other clock); a MATERIALIZED CTE runs once.
        chosen = Reminder.id == due.cte("due").prefix_with("MATERIALIZED").c.id
    else:
        # Python's sqlite3 opens a transaction only before a statement that starts with UPDATE;
        # a WITH ... UPDATE would commit on its own, outside the caller's transaction.
        chosen = Reminder.id.in_(due.scalar_subquery())
    claimed = session.execute(
        update(Reminder).where(chosen, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CLAIMED, claimed_by=worker, claimed_at=now, updated_at=now)
        .returning(Reminder.id),
        execution_options={"synchronize_session": False},
    )
    return sorted(claimed.scalars())


def release_claims(session: Session, ids: Sequence[int], worker: str, now: datetime) -> int:
    """Hand back claimed reminders this worker did not get to (nothing was sent for them)."""
    if not ids:
        return 0
    result = session.execute(
        update(Reminder).where(Reminder.id.in_(ids), Reminder.status == ReminderStatus.CLAIMED,
                               Reminder.claimed_by == worker)
        .values(status=ReminderStatus.PENDING, claimed_by=None, claimed_at=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def why_not_send(session: Session, reminder: Reminder, now: datetime) -> ReminderStatus | None:
    """The status a claimed reminder must take instead of being sent, or None to send it.

    `begin_send` checks the same rules in SQL as it marks a text "sending": change both together.
    """
    if is_opted_out(session, reminder.to_number) or reminder.callback.status not in TEXTABLE_CALLBACK_STATUSES:
        return ReminderStatus.CANCELLED
    if reminder.useful_until - now < MIN_USEFUL:
        return ReminderStatus.MISSED
    return None


def begin_send(connection: Connection, reminder_id: int, worker: str, now: datetime) -> Row | None:
    """Mark a claimed reminder as being handed to Twilio, if it is still this worker's and still
    worth sending (the conditions of `why_not_send`, checked in the same statement); return what
    the text needs (id, kind, callback_id, to_number, body, useful_until), or None.

    One statement, committed before the request goes out, so a crash from here on leaves
    "sending": unknown, never resent. After None, `settle_unsendable` says why.
    """
    opted_out = select(OptOut.phone_number).where(OptOut.phone_number == Reminder.to_number).exists()
    expected = (select(Callback.id)
                .where(Callback.id == Reminder.callback_id, Callback.status.in_(TEXTABLE_CALLBACK_STATUSES))
                .exists())
    return connection.execute(
        update(Reminder).where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.CLAIMED,
                               Reminder.claimed_by == worker, Reminder.useful_until >= now + MIN_USEFUL,
                               ~opted_out, expected)
        .values(status=ReminderStatus.SENDING, claimed_at=now, attempts=Reminder.attempts + 1, updated_at=now)
        .returning(Reminder.id, Reminder.kind, Reminder.callback_id, Reminder.to_number, Reminder.body,
                   Reminder.useful_until),
        execution_options={"synchronize_session": False},
    ).one_or_none()


def settle_unsendable(session: Session, reminder_id: int, worker: str, now: datetime) -> Reminder | None:
    """After `begin_send` declined a reminder: cancel it or mark it missed, as `why_not_send` says.

    Returns the reminder, or None when it is no longer this worker's (another clock took it). If
    nothing stops it any more (a STOP withdrawn in between), it goes back to the queue, unsent.
    """
    reminder = session.get(Reminder, reminder_id, options=[joinedload(Reminder.callback)], populate_existing=True)
    if reminder is None or reminder.status != ReminderStatus.CLAIMED or reminder.claimed_by != worker:
        return None
    reminder.status = why_not_send(session, reminder, now) or ReminderStatus.PENDING
    reminder.claimed_by = None
    reminder.updated_at = now
    return reminder


def validity(useful_until: datetime, now: datetime) -> int:
    """Seconds Twilio may hold a text before giving up: never past the window's start."""
    return int(min(useful_until - now, MAX_VALIDITY).total_seconds())


def record_sent(connection: Connection, reminder_id: int, message_sid: str | None, simulated: bool,
                now: datetime) -> None:
    """Twilio took the text (one statement)."""
    connection.execute(
        update(Reminder).where(Reminder.id == reminder_id)
        .values(status=ReminderStatus.SENT, message_sid=message_sid, simulated=simulated, sent_at=now,
                error_code=None, delivery_status=None,  # a retried text's reports start afresh
                updated_at=now),
        execution_options={"synchronize_session": False},
    )


# --- failures -----------------------------------------------------------------------------------


class Failure(StrEnum):
    TEMPORARY = "temporary"  # Twilio asked us to slow down, or could not be reached: try again later
    AMBIGUOUS = "ambiguous"  # it may have gone: never resent, staff told
    RETRY_ONCE = "retry_once"  # the phone was unreachable: one more try later
    PERMANENT = "permanent"  # opted out, invalid, landline, carrier refused: never retried


# Twilio's error codes (https://www.twilio.com/docs/api/errors) and what each means for a reminder.
RETRY_ONCE_CODES = frozenset({30003})  # unreachable handset
TEMPORARY_CODES = frozenset({20429})  # too many requests
OPTED_OUT_CODE = 21610
TEMPORARY_BACKOFF = timedelta(seconds=30)
TEMPORARY_BACKOFF_CAP = timedelta(minutes=15)
RETRY_ONCE_AFTER = timedelta(minutes=30)


def failure_for(code: int | None, http_status: int | None = None) -> Failure:
    """How to treat a failed send from Twilio's error code and HTTP status (either may be missing).

    21610 (opted out), 21211 (invalid number), 21614 (not a mobile), 30005/30006/30007 (unknown,
    landline, filtered) and anything else Twilio refuses are permanent.
    """
    if code in RETRY_ONCE_CODES:
        return Failure.RETRY_ONCE
    if code in TEMPORARY_CODES or http_status == 429:
        return Failure.TEMPORARY
    if http_status is not None and http_status >= 500:
        return Failure.AMBIGUOUS
    return Failure.PERMANENT


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait before try number `attempts` + 1: doubling, capped, with jitter so that
    many reminders refused together do not all come back at the same second."""
    ceiling = min(TEMPORARY_BACKOFF * 2 ** max(attempts - 1, 0), TEMPORARY_BACKOFF_CAP)
    return ceiling * (rng or random).uniform(0.5, 1.0)


_STAFF_NOTES = {
    ReminderStatus.UNKNOWN: "It is not known whether the {kind} reminder text was sent (error {code}); "
                            "it will not be resent automatically.",
    ReminderStatus.FAILED: "The {kind} reminder text could not be delivered (error {code}).",
}


def _tell_staff(session: Session, reminder: Reminder, now: datetime) -> None:
    """Put a failed or doubtful text on the callback's history, where staff look."""
    kind = Kind(reminder.kind).replace("_", "-")
    detail = _STAFF_NOTES[ReminderStatus(reminder.status)].format(kind=kind, code=reminder.error_code or "none")
    session.add(CallbackEvent(callback_id=reminder.callback_id, at=now, kind=f"text_{reminder.status}", detail=detail))


def _finish(session: Session, reminder: Reminder, status: ReminderStatus, now: datetime) -> None:
    reminder.status = status
    reminder.updated_at = now
    _tell_staff(session, reminder, now)


def _try_again_at(session: Session, reminder: Reminder, when: datetime, now: datetime) -> None:
    """Back to the queue for a later try if that is still useful; otherwise it failed."""
    if reminder.useful_until - when < MIN_USEFUL:
        _finish(session, reminder, ReminderStatus.FAILED, now)
        return
    reminder.status = ReminderStatus.PENDING
    reminder.due_at = when
    reminder.claimed_by = None
    reminder.message_sid = None
    reminder.updated_at = now


def record_failure(session: Session, reminder: Reminder, failure: Failure, code: int | None, now: datetime,
                   rng: random.Random | None = None) -> None:
    """What a failed send (or an undelivered text) does to its reminder; the code is kept."""
    reminder.error_code = code
    if failure is Failure.TEMPORARY:
        _try_again_at(session, reminder, now + backoff(reminder.attempts, rng), now)
    elif failure is Failure.RETRY_ONCE and reminder.attempts < 2:
        _try_again_at(session, reminder, now + RETRY_ONCE_AFTER, now)
    elif failure is Failure.AMBIGUOUS:
        _finish(session, reminder, ReminderStatus.UNKNOWN, now)
    else:
        _finish(session, reminder, ReminderStatus.FAILED, now)
        if code == OPTED_OUT_CODE:
            # Twilio knows this number said STOP (perhaps to another of our texts): honour it here too.
            opt_out(session, reminder.to_number, now)


def recover_stuck(session: Session, now: datetime, stuck_after: timedelta) -> tuple[int, int]:
    """Rows a crashed clock left behind: claimed ones go back to the queue (nothing was sent);
    ones mid-send may have gone, so they become unknown and staff are told. Returns both counts."""
    cutoff = now - stuck_after
    released = session.execute(
        update(Reminder).where(Reminder.status == ReminderStatus.CLAIMED, Reminder.claimed_at < cutoff)
        .values(status=ReminderStatus.PENDING, claimed_by=None, claimed_at=None, updated_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    stuck = session.scalars(select(Reminder).where(Reminder.status == ReminderStatus.SENDING,
                                                   Reminder.claimed_at < cutoff)).all()
    for reminder in stuck:
        _finish(session, reminder, ReminderStatus.UNKNOWN, now)
    return released, len(stuck)


# --- delivery reports ---------------------------------------------------------------------------

# Twilio's message statuses in the order they happen; a report never moves a text backwards.
DELIVERY_ORDER = {
    "accepted": 0, "scheduled": 0, "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "canceled": 3,
    "read": 4,
}
UNDELIVERED = ("undelivered", "failed")


def record_delivery(session: Session, message_sid: str, status: str, error_code: int | None,
                    now: datetime) -> bool:
    """Store Twilio's report on a text; False when it changes nothing (unknown, repeated or late).

    One conditional UPDATE, so two reports racing each other cannot move the status backwards.
    """
    current = case(DELIVERY_ORDER, value=Reminder.delivery_status, else_=-1)
    moved = session.execute(
        update(Reminder).where(Reminder.message_sid == message_sid, current < DELIVERY_ORDER[status])
        .values(delivery_status=status, updated_at=now).returning(Reminder.id),
        execution_options={"synchronize_session": False},
    ).scalar()
    if moved is None:
        return False
    if status in UNDELIVERED:
        reminder = session.get(Reminder, moved, populate_existing=True)
        record_failure(session, reminder, failure_for(error_code), error_code, now)
    return True
