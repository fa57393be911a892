"""The outbox the clock works: reminder rows that are due, claimed, sent and reported on.

A reminder's life: pending -> claimed (a clock process took it; nothing sent yet) -> sending
(handed to Twilio) -> sent | failed | unknown; or pending -> cancelled | missed. A row left in
"claimed" by a crash goes back to pending; one left in "sending" may have gone, so it becomes
"unknown" and staff are told: it is never resent automatically.

Whether a planned text may still go is one rule, `why_held`, which the clock checks in the same
statement that marks a text "sending" and which the staff pages show. Every function takes the
session and `now`; the clock commits a claim, and the "sending" mark, before it sends.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Row, and_, bindparam, case, exists, or_, select, update
from sqlalchemy.orm import Session

from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    Callback,
    CallbackEvent,
    DeliveryStatus,
    EventKind,
    OptOut,
    Reminder,
    ReminderKind,
    ReminderStatus,
    TextKind,
    TextsHeld,
)
from ivr.reminders import TEXTABLE_CALLBACK_STATUSES, opt_out

# Twilio holds a text in its queue at most this long (ValidityPeriod may be 1..36,000 seconds);
# a reminder with less than MIN_USEFUL left is not worth sending.
MAX_VALIDITY = timedelta(seconds=36_000)
MIN_USEFUL = timedelta(minutes=1)


# --- may it still go? ---------------------------------------------------------------------------


class Held(StrEnum):
    """Why a planned text must not go."""

    OPTED_OUT = "opted_out"  # the number said STOP
    HELD = "held"  # an officer must decide first: not safe to talk, or a reply to read
    NOT_EXPECTED = "not_expected"  # the callback is no longer waiting for our call at that time
    TOO_LATE = "too_late"  # the window opens too soon for a reminder to help


# What becomes of a text held back at the moment it would have gone.
INSTEAD_OF_SENDING = {Held.OPTED_OUT: ReminderStatus.CANCELLED, Held.HELD: ReminderStatus.HELD,
                      Held.NOT_EXPECTED: ReminderStatus.CANCELLED, Held.TOO_LATE: ReminderStatus.MISSED}


def why_held():
    """SQL for why the text in the row may not be sent, or NULL when it may. A statement built
    with it takes `held_at(now)` among its parameters.

    An officer's text (kind "staff") answers the victim, so a reply waiting to be read does not
    hold it, and it is about no particular window; "not safe to talk", a STOP and a closed
    callback stop it as they stop the reminders.
    """
    reminder, callback = Reminder.__table__.c, Callback.__table__.c
    officers = reminder.kind == TextKind.STAFF.value
    stopped = exists().where(OptOut.__table__.c.phone_number == reminder.to_number)
    held = exists().where(callback.id == reminder.callback_id, or_(
        and_(~officers, callback.texts_held.is_not(None)), callback.texts_held == TextsHeld.NOT_SAFE.value))
    # Still waiting for our call, in the window the text speaks of (a reschedule moves the window);
    # an officer's text: the callback is still open, or there is none (a reply to a stray text).
    expected = or_(
        and_(~officers, exists().where(callback.id == reminder.callback_id,
                                       callback.status.in_(TEXTABLE_CALLBACK_STATUSES),
                                       callback.window_start == reminder.useful_until)),
        and_(officers, or_(reminder.callback_id.is_(None), exists().where(
            callback.id == reminder.callback_id, callback.status.in_(OPEN_CALLBACK_STATUSES)))))
    too_late = reminder.useful_until < bindparam("useful_after", type_=reminder.useful_until.type)
    return case((stopped, Held.OPTED_OUT.value), (held, Held.HELD.value), (~expected, Held.NOT_EXPECTED.value),
                (too_late, Held.TOO_LATE.value), else_=None)


def held_at(now: datetime) -> dict[str, datetime]:
    """The parameters `why_held` needs to judge a text at `now`."""
    return {"useful_after": now + MIN_USEFUL}


def held_reminders(session: Session, callback_id: int, now: datetime) -> dict[int, Held]:
    """The callback's reminders still to go that would be held back if they fell due now, and why."""
    rows = session.execute(select(Reminder.id, why_held()).where(
        Reminder.callback_id == callback_id,
        Reminder.status.in_((ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.HELD))), held_at(now))
    return {reminder_id: Held(reason) for reminder_id, reason in rows if reason is not None}


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


# The two writes every text makes, built once: a clock sends hundreds a minute.
_reminders = Reminder.__table__
_BEGIN_SEND = (
    update(_reminders)
    .where(_reminders.c.id == bindparam("reminder_id"), _reminders.c.status == ReminderStatus.CLAIMED,
           _reminders.c.claimed_by == bindparam("worker"), why_held().is_(None))
    .values(status=ReminderStatus.SENDING, claimed_at=bindparam("sending_at"), attempts=_reminders.c.attempts + 1,
            updated_at=bindparam("sending_at"))
    .returning(_reminders.c.id, _reminders.c.kind, _reminders.c.callback_id, _reminders.c.to_number,
               _reminders.c.body, _reminders.c.useful_until)
)
_RECORD_SENT = (
    update(_reminders)
    .where(_reminders.c.id == bindparam("reminder_id"))
    .values(status=ReminderStatus.SENT, message_sid=bindparam("sid"), simulated=bindparam("was_simulated"),
            sent_at=bindparam("sent"), updated_at=bindparam("sent"),
            error_code=None, delivery_status=None)  # a retried text's reports start afresh
)


def begin_send(session: Session, reminder_id: int, worker: str, now: datetime) -> Row | None:
    """Mark a claimed reminder as being handed to Twilio, if it is still this worker's and nothing
    holds it back (`why_held`, checked in the same statement); return what the text needs
    (id, kind, callback_id, to_number, body, useful_until), or None.

    The caller commits before the request goes out, so a crash from then on leaves "sending":
    unknown, never resent. After None, `settle_unsendable` says why.
    """
    return session.execute(_BEGIN_SEND, {"reminder_id": reminder_id, "worker": worker, "sending_at": now,
                                         **held_at(now)}).one_or_none()


def settle_unsendable(session: Session, reminder_id: int, worker: str, now: datetime) -> Reminder | None:
    """After `begin_send` declined a reminder: cancel it, hold it or mark it missed, as `why_held` says.

    Returns the reminder, or None when it is no longer this worker's (another clock took it). One
    that a STOP, a cancel or a hold stopped while it was claimed is left as they left it. If nothing
    holds it back any more (a STOP withdrawn in between), it goes back to the queue, unsent.
    """
    found = session.execute(select(Reminder, why_held()).where(Reminder.id == reminder_id)
                            .execution_options(populate_existing=True), held_at(now)).one_or_none()
    if found is None or found[0].claimed_by != worker:
        return None
    reminder, held = found
    if reminder.status != ReminderStatus.CLAIMED:
        return reminder
    reminder.status = INSTEAD_OF_SENDING[Held(held)] if held else ReminderStatus.PENDING
    reminder.claimed_by = None
    reminder.updated_at = now
    return reminder


def validity(useful_until: datetime, now: datetime) -> int:
    """Seconds Twilio may hold a text before giving up: never past the window's start."""
    return int(min(useful_until - now, MAX_VALIDITY).total_seconds())


def record_sent(session: Session, reminder_id: int, message_sid: str | None, simulated: bool, now: datetime) -> None:
    """Twilio took the text."""
    session.execute(_RECORD_SENT, {"reminder_id": reminder_id, "sid": message_sid, "was_simulated": simulated,
                                   "sent": now})


# --- failures -----------------------------------------------------------------------------------


class Failure(StrEnum):
    """What a failed send means for a reminder (the gateway reads Twilio's answer into one)."""

    TEMPORARY = "temporary"  # Twilio asked us to slow down, or could not be reached: try again later
    AMBIGUOUS = "ambiguous"  # it may have gone: never resent, staff told
    RETRY_ONCE = "retry_once"  # the phone was unreachable: one more try later
    OPTED_OUT = "opted_out"  # the number said STOP to the carrier or Twilio: never again, to any text
    PERMANENT = "permanent"  # invalid, landline, carrier refused: never retried


TEMPORARY_BACKOFF = timedelta(seconds=30)
TEMPORARY_BACKOFF_CAP = timedelta(minutes=15)
RETRY_ONCE_AFTER = timedelta(minutes=30)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait before try number `attempts` + 1: doubling, capped, with jitter so that
    many reminders refused together do not all come back at the same second."""
    ceiling = min(TEMPORARY_BACKOFF * 2 ** max(attempts - 1, 0), TEMPORARY_BACKOFF_CAP)
    return ceiling * (rng or random).uniform(0.5, 1.0)


_STAFF_NOTES = {
    ReminderStatus.UNKNOWN: (EventKind.TEXT_UNKNOWN,
                             "It is not known whether the {kind} text was sent (error {code}); "
                             "it will not be resent automatically."),
    ReminderStatus.FAILED: (EventKind.TEXT_FAILED, "The {kind} text could not be delivered (error {code})."),
}


def _tell_staff(session: Session, reminder: Reminder, now: datetime) -> None:
    """Put a failed or doubtful text on the callback's history, where staff look (an officer's
    reply to a stray text has no callback: its conversation shows how it went)."""
    if reminder.callback_id is None:
        return
    event_kind, note = _STAFF_NOTES[ReminderStatus(reminder.status)]
    what = "officer's" if reminder.kind == TextKind.STAFF else ReminderKind(reminder.kind).replace("_", "-") + " reminder"
    detail = note.format(kind=what, code=reminder.error_code or "none")
    session.add(CallbackEvent(callback_id=reminder.callback_id, at=now, kind=event_kind, detail=detail))


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
        if failure is Failure.OPTED_OUT:
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
    DeliveryStatus.ACCEPTED: 0, DeliveryStatus.SCHEDULED: 0, DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3, DeliveryStatus.UNDELIVERED: 3, DeliveryStatus.FAILED: 3, DeliveryStatus.CANCELED: 3,
    DeliveryStatus.READ: 4,
}
UNDELIVERED = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


def record_delivery(session: Session, message_sid: str, status: str, error_code: int | None,
                    failure: Failure | None, now: datetime) -> bool:
    """Store Twilio's report on a text; False when it changes nothing (unknown, repeated or late).
    An undelivered text is a failed send (`failure` says what kind).

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
        record_failure(session, reminder, failure or Failure.PERMANENT, error_code, now)
    return True
