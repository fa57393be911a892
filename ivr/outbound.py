"""Calls the service places for a callback: whether one may be placed now, and what each attempt
records (docs/operations.md, "Calling a victim back").

An attempt rings the officer's work number first; when they press 1 the victim is dialled from
the helpline's number and asked whether it is a good time to talk. Its row is live (`ended_at` is
NULL) until the call is over, and the database allows one live row per callback and per number,
so no click, worker or officer can ring a victim twice at once. Twilio reports each step more
than once (retries, and status callbacks beside the call's own requests): the first result
recorded is the one kept, and a repeat changes nothing.

`why_not_call` is the one rule for the staff page (which shows it beside the button) and the
route that places the call. Every function takes the session and `now`, and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ivr import callbacks, reminders, wording
from ivr.db.statements import insert_unless_duplicate
from ivr.hours import london
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    AttemptOutcome,
    AuditEvent,
    CallAttempt,
    Callback,
    CallbackEvent,
    CallResult,
    EventKind,
    StaffUser,
    TextsHeld,
)
from ivr.phone import callable_number, last_digits

# A live attempt Twilio has said nothing about for this long lost its status callbacks: it is
# closed, so it cannot keep the victim's line "busy" for ever.
LIVE_AT_MOST = timedelta(hours=2)


class NoCall(StrEnum):
    """Why the service will not place a call for a callback now."""

    CLOSED = "closed"  # completed or cancelled
    NOT_SAFE = "not_safe"  # held as not safe to talk (or not a good time) until an officer decides
    NUMBER = "number"  # not a number ivr.phone.callable_number accepts
    OUTSIDE_WINDOW = "outside_window"  # the officer may confirm an override
    IN_PROGRESS = "in_progress"  # a call to this callback, or this number, is under way
    NO_WORK_NUMBER = "no_work_number"  # the service has no phone of the officer's to ring first
    RELAY = "relay"  # to be called through Relay UK (18002), which the service cannot dial


@dataclass(frozen=True)
class Refusal:
    why: NoCall
    words: str  # for staff, saying what to do

    @property
    def can_override(self) -> bool:
        return self.why is NoCall.OUTSIDE_WINDOW


class CallRefused(Exception):
    def __init__(self, refusal: Refusal):
        super().__init__(refusal.words)
        self.refusal = refusal




def why_not_call(session: Session, callback: Callback, officer: StaffUser, now: datetime, *,
                 override_window: bool = False) -> Refusal | None:
    """Why `officer` may not have the service call this callback's victim at `now`; None when they may."""
    if callback.status not in OPEN_CALLBACK_STATUSES:
        return Refusal(NoCall.CLOSED, f"This callback is {callback.status}: the service calls only open callbacks.")
    if callback.via_relay:
        return Refusal(NoCall.RELAY, "They are to be called via Relay UK: from your phone, dial 18002 then their "
                                     "number, and a relay assistant will type what you say. The service cannot dial "
                                     "through the relay. Record how the call went below.")
    if callback.texts_held == TextsHeld.NOT_SAFE:
        return Refusal(NoCall.NOT_SAFE, "It was not safe, or not a good time, to talk. Decide first: let texts "
                                        "go again, or reschedule the callback.")
    if callable_number(callback.phone_number)[1] is not None:
        return Refusal(NoCall.NUMBER, "The service does not call this kind of number (abroad, costing extra, or not "
                                      "a line a person answers). Ask the victim for a UK mobile or landline.")
    if not (callback.window_start <= now < callback.window_end) and not override_window:
        return Refusal(NoCall.OUTSIDE_WINDOW, "It is outside the time they chose "
                       f"({wording.window(callback.window_start, callback.window_end, london(now).date())}). "
                       "Call only if you "
                       "are sure they would want it now, and tick the box to say so.")
    live = live_attempt(session, callback, now)
    if live is not None:
        return Refusal(NoCall.IN_PROGRESS, f"A call to this number is under way (placed {wording.moment(live.placed_at, london(now).date())}). "
                                           "Refresh the page to see how it went.")
    if not officer.work_number:
        return Refusal(NoCall.NO_WORK_NUMBER, "Add your work number first (Your work number, at the top of the page): "
                                              "the service rings you on it before it calls them.")
    return None


def live_attempt(session: Session, callback: Callback, now: datetime) -> CallAttempt | None:
    """The call under way to this callback or its number, if any (one left live by a lost status
    callback is closed first)."""
    _close_forgotten(session, now)
    return session.scalars(select(CallAttempt).where(
        CallAttempt.ended_at.is_(None),
        (CallAttempt.callback_id == callback.id) | (CallAttempt.to_number == callback.phone_number))).first()


def _close_forgotten(session: Session, now: datetime) -> None:
    for attempt in session.scalars(select(CallAttempt).where(
            CallAttempt.ended_at.is_(None), CallAttempt.placed_at < now - LIVE_AT_MOST)):
        end_attempt(session, attempt, now)


def open_attempt(session: Session, callback: Callback, officer: StaffUser, now: datetime, *,
                 override_window: bool, simulated: bool) -> CallAttempt:
    """Store the attempt about to be placed, or raise CallRefused. Two at once for one callback or
    number: the database refuses the second, whatever checked before."""
    refusal = why_not_call(session, callback, officer, now, override_window=override_window)
    if refusal is not None:
        raise CallRefused(refusal)
    attempt_id = insert_unless_duplicate(session, CallAttempt, {
        "callback_id": callback.id, "staff_id": officer.id, "to_number": callback.phone_number,
        "officer_number": officer.work_number, "placed_at": now, "simulated": simulated,
        "outside_window": not (callback.window_start <= now < callback.window_end),
    })
    if attempt_id is None:
        raise CallRefused(Refusal(NoCall.IN_PROGRESS, "A call to this number is already under way."))
    attempt = session.get(CallAttempt, attempt_id)
    _audit(session, attempt, now, "call", "placed" + (", outside the window" if attempt.outside_window else ""))
    return attempt


def officer_rung(session: Session, attempt: CallAttempt, call_sid: str | None) -> None:
    """Twilio took the call to the officer's phone: its CallSid."""
    if call_sid and attempt.officer_call_sid is None:
        attempt.officer_call_sid = call_sid


def victim_rung(session: Session, attempt: CallAttempt, call_sid: str | None, now: datetime) -> None:
    """The officer pressed 1: the victim's phone is being rung."""
    if attempt.victim_rung_at is None:
        attempt.victim_rung_at = now
    if call_sid and attempt.victim_call_sid is None:
        attempt.victim_call_sid = call_sid


def answered(session: Session, attempt: CallAttempt, call_sid: str | None, now: datetime) -> None:
    victim_rung(session, attempt, call_sid, now)
    if attempt.answered_at is None:
        attempt.answered_at = now


# What each result says on the callback's history and the staff page.
RESULTS = {
    CallResult.AGREED: "Answered: a good time to talk. Put through to the officer",
    CallResult.NOT_GOOD_TIME: "Answered: not a good time to talk. Texts held, as for not safe to talk",
    CallResult.NO_ANSWER: "No answer",
    CallResult.BUSY: "Busy",
    CallResult.VOICEMAIL_LEFT: "An answering machine: a discreet voicemail was left (they agreed to one)",
    CallResult.MACHINE: "An answering machine: nothing left (they did not agree to a voicemail)",
    CallResult.FAILED: "The call could not be placed",
    CallResult.OFFICER_MISSED: "Not started: the officer's phone was not answered, or they did not press 1. "
                               "The victim was not rung",
}
# The results that count towards CALLBACK_MAX_ATTEMPTS: the victim was rung and no conversation followed.
UNREACHED = (CallResult.NOT_GOOD_TIME, CallResult.NO_ANSWER, CallResult.BUSY, CallResult.VOICEMAIL_LEFT,
             CallResult.MACHINE)
# The attempt outcomes (the officer's form) a result is the same as.
_SAME_OUTCOME = {CallResult.NO_ANSWER: AttemptOutcome.NO_ANSWER, CallResult.VOICEMAIL_LEFT: AttemptOutcome.LEFT_VOICEMAIL}


def record_result(session: Session, attempt: CallAttempt, result: CallResult, now: datetime) -> bool:
    """Keep how the attempt went, on its row, the callback's history and the audit trail; False
    when a result was already kept (a retried or late report changes nothing)."""
    kept = session.execute(
        update(CallAttempt).where(CallAttempt.id == attempt.id, CallAttempt.result.is_(None))
        .values(result=result, result_at=now), execution_options={"synchronize_session": False}).rowcount
    if not kept:
        session.refresh(attempt, ["result", "result_at"])
        return False
    attempt.result, attempt.result_at = result, now
    session.flush()  # the row now says `result`: session.get below must not read it back as it was
    callback = session.get(Callback, attempt.callback_id)
    session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.ATTEMPT, outcome=_SAME_OUTCOME.get(result),
                              staff_id=attempt.staff_id,
                              detail=f"Called through the service{' (simulated)' if attempt.simulated else ''}: "
                                     f"{RESULTS[result]}."))
    callback.updated_at = now
    _audit(session, attempt, now, "call_result", result)
    if result == CallResult.NOT_GOOD_TIME:
        reminders.hold_texts(session, callback, TextsHeld.NOT_SAFE, now)
    return True


def end_attempt(session: Session, attempt: CallAttempt, now: datetime) -> None:
    """The call is over: the line is free for another. With no result yet, the victim was not
    reached (or never rung)."""
    if attempt.result is None:
        record_result(session, attempt, CallResult.OFFICER_MISSED if attempt.victim_rung_at is None
                      else CallResult.NO_ANSWER, now)
    if attempt.ended_at is None:
        attempt.ended_at = now


def rebook(session: Session, attempt: CallAttempt, new_slot: callbacks.Slot, now: datetime) -> None:
    """The victim, told it is not a good time, chose another day and time on the call: the
    callback moves there and its reminders are planned again for it, by the usual rules (their
    consent, STOP). Raises CallbackRefused when the number already has that time booked."""
    callback = session.get(Callback, attempt.callback_id)
    with session.begin_nested():  # a refused time leaves the texts held
        if callback.texts_held == TextsHeld.NOT_SAFE:
            reminders.resume_texts(session, callback, now, None,
                                   detail="They chose another time on the call: texts may go for it.")
        callbacks.reschedule(session, callback, new_slot, now=now, staff_id=None)
    _audit(session, attempt, now, "call_rebooked", f"{new_slot.day.isoformat()} {new_slot.window.id}")


def unreached_attempts(session: Session, callback_id: int) -> int:
    """How many calls rang the victim without a conversation (CALLBACK_MAX_ATTEMPTS counts them)."""
    return session.scalar(select(func.count()).where(CallAttempt.callback_id == callback_id,
                                                     CallAttempt.result.in_(UNREACHED)))


def callbacks_called_too_often(max_attempts: int):
    """SQL: the ids of callbacks rung `max_attempts` times or more without a conversation."""
    return (select(CallAttempt.callback_id).where(CallAttempt.result.in_(UNREACHED))
            .group_by(CallAttempt.callback_id).having(func.count() >= max_attempts))


def attempts_of(session: Session, callback_id: int) -> list[CallAttempt]:
    return list(session.scalars(select(CallAttempt).where(CallAttempt.callback_id == callback_id)
                                .order_by(CallAttempt.placed_at.desc(), CallAttempt.id.desc())))


def _audit(session: Session, attempt: CallAttempt, now: datetime, action: str, detail: str) -> None:
    # Never the number: the attempt's id says which call, the callback's id whose record.
    session.add(AuditEvent(at=now, staff_id=attempt.staff_id, action=action, record_type="callback",
                           record_id=attempt.callback_id, detail=f"call attempt {attempt.id}: {detail}"))


def whose(callback: Callback) -> dict:
    """What the officer is told before they start: nothing personal, enough to know which callback."""
    return {"callback_id": callback.id, "ending": last_digits(callback.phone_number),
            "day": london(callback.window_start).date(), "starts": london(callback.window_start).time(),
            "ends": london(callback.window_end).time(), "interpreter": callback.interpreter_language or ""}
