"""What staff do with a callback, as domain rules: attempts (voicemail only with consent), complete,
cancel, reschedule (reminders replanned), notes, assignment. Every change lands in the history."""

from datetime import date

import pytest

from ivr import callbacks
from ivr.callbacks import CallbackRefused
from ivr.models import Callback, CallbackStatus, ReminderStatus
from tests.conftest import LANDLINE, MOBILE, utc

BOOKED = utc(2026, 11, 26, 10)  # the Thursday before
MONDAY_8AM = utc(2026, 11, 30, 8)


@pytest.fixture
def helpline(app):
    return app.extensions["helpline"]


@pytest.fixture
def booked(session, helpline):
    def book(voicemail_ok=True, phone_number=MOBILE):
        chosen = callbacks.slot(date(2026, 11, 30), helpline.callback_window("morning"))
        booked = callbacks.book_callback(
            session, region="durham", phone_number=phone_number, number_source="staff",
            is_mobile=phone_number == MOBILE, starts=chosen.starts, ends=chosen.ends, voicemail_ok=voicemail_ok,
            texts_ok=True, now=BOOKED, call_sid=None)
        return session.get(Callback, booked.callback_id)
    return book


def kinds(callback: Callback) -> list[str]:
    return [event.kind for event in callback.events]


def texts(callback: Callback) -> list[tuple[str, str, object]]:
    """Its reminders in the order they are due: (status, kind, due)."""
    return [(r.status, r.kind, r.due_at) for r in sorted(callback.reminders, key=lambda r: (r.due_at, r.id))]


@pytest.mark.parametrize("outcome", ["spoke", "no_answer", "not_safe", "left_voicemail"])
def test_an_attempt_is_recorded_with_its_outcome(session, booked, outcome):
    callback = booked()
    callbacks.record_attempt(session, callback, outcome, now=MONDAY_8AM, staff_id=None, detail=" rang twice ")
    [attempt] = [event for event in callback.events if event.kind == "attempt"]
    assert (attempt.outcome, attempt.detail) == (outcome, "rang twice")


def test_no_voicemail_is_left_without_consent(session, booked):
    callback = booked(voicemail_ok=False)
    with pytest.raises(CallbackRefused, match="did not agree to a voicemail"):
        callbacks.record_attempt(session, callback, "left_voicemail", now=MONDAY_8AM, staff_id=None)
    assert kinds(callback) == ["booked"]


def test_an_unknown_outcome_is_refused(session, booked):
    with pytest.raises(CallbackRefused):
        callbacks.record_attempt(session, booked(), "rang the doorbell", now=MONDAY_8AM, staff_id=None)


@pytest.mark.parametrize("close", [callbacks.complete, callbacks.cancel])
def test_closing_a_callback_cancels_its_reminders_and_stops_further_actions(session, booked, close):
    callback = booked()
    day_before = min(callback.reminders, key=lambda r: r.due_at)
    day_before.status = ReminderStatus.SENT  # it went on Sunday
    close(session, callback, now=MONDAY_8AM, staff_id=None)
    assert callback.status in (CallbackStatus.COMPLETED, CallbackStatus.CANCELLED)
    assert texts(callback) == [(ReminderStatus.SENT, "day_before", utc(2026, 11, 29, 11)),
                               (ReminderStatus.CANCELLED, "hour_before", MONDAY_8AM)]
    with pytest.raises(CallbackRefused, match="cannot be attempted"):
        callbacks.record_attempt(session, callback, "spoke", now=MONDAY_8AM, staff_id=None)
    callbacks.add_note(session, callback, "they wrote in instead", now=MONDAY_8AM, staff_id=None)
    assert kinds(callback)[-1] == "note"


def test_reschedule_moves_the_window_replans_reminders_and_clears_a_rearrange(session, booked, helpline):
    callback = booked()
    callback.status = CallbackStatus.REARRANGE
    new = callbacks.slot(date(2026, 12, 2), helpline.callback_window("afternoon"))
    callbacks.reschedule(session, callback, new, now=MONDAY_8AM, staff_id=None)
    assert (callback.window_start, callback.window_end) == (new.starts, new.ends)
    assert callback.status == CallbackStatus.BOOKED
    assert texts(callback) == [
        (ReminderStatus.CANCELLED, "day_before", utc(2026, 11, 29, 11)),
        (ReminderStatus.CANCELLED, "hour_before", MONDAY_8AM),
        (ReminderStatus.PENDING, "day_before", utc(2026, 12, 1, 11)),  # Tuesday 11am
        (ReminderStatus.PENDING, "hour_before", utc(2026, 12, 2, 11)),  # an hour before noon
    ]
    assert all("Wed 2 Dec, 12 noon-5pm" in r.body for r in callback.reminders if r.status == ReminderStatus.PENDING)
    assert callback.events[-1].detail == "from Mon 30 Nov, 9am–12 noon to Wed 2 Dec, 12 noon–5pm"


def test_a_window_in_the_past_cannot_be_chosen(session, booked, helpline):
    past = callbacks.slot(date(2026, 11, 27), helpline.callback_window("morning"))
    with pytest.raises(CallbackRefused, match="passed"):
        callbacks.reschedule(session, booked(), past, now=MONDAY_8AM, staff_id=None)


def test_an_empty_note_is_refused(session, booked):
    with pytest.raises(CallbackRefused):
        callbacks.add_note(session, booked(), "   ", now=MONDAY_8AM, staff_id=None)


def test_texts_are_only_for_mobiles(booked):
    assert booked(phone_number=LANDLINE).texts_ok is False
