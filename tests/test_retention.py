"""Personal data is kept only as long as needed: recordings go after 30 days, closed records after 90."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr.gateway import TwilioGateway
from ivr.models import Call, Callback, CallbackEvent, CallbackStatus, InboundText, Reminder, Voicemail, VoicemailEvent
from ivr.retention import REDACTED, apply_retention
from tests.conftest import LANDLINE, MOBILE, utc

NOW = utc(2026, 11, 24, 3, 0)


@pytest.fixture
def gateway(double):
    return TwilioGateway(account_sid=double.account_sid, auth_token=double.auth_token,
                         base_url=double.base_url, timeout=2)


def voicemail(sid: str, age: timedelta) -> Voicemail:
    return Voicemail(call_sid="CA" + sid, from_number=MOBILE, region="vcas", recording_sid=sid,
                     recording_url=f"https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/{sid}",
                     duration_seconds=20, created_at=NOW - age)


def callback(status: str, closed_ago: timedelta) -> Callback:
    when = NOW - closed_ago
    item = Callback(region="durham", phone_number=LANDLINE, window_start=when - timedelta(days=1),
                    window_end=when - timedelta(days=1) + timedelta(hours=3), status=status,
                    created_at=when - timedelta(days=2), updated_at=when)
    item.events.append(CallbackEvent(kind="note", detail="Prefers calls after school pick-up", at=when))
    item.reminders.append(Reminder(kind="hour_before", to_number=MOBILE, due_at=when, useful_until=when,
                                   status="sent", body="Reminder: we will call you today"))
    return item


def retention(session, gateway):
    summary = apply_retention(session, gateway, NOW, recording_days=30, closed_days=90)
    session.commit()
    session.expire_all()
    return summary


def test_recordings_older_than_30_days_are_deleted_on_twilio_and_forgotten_here(session, gateway, double):
    for sid in ("RE-old", "RE-new"):
        double.add_recording(sid, b"audio")
    session.add_all([voicemail("RE-old", timedelta(days=31)), voicemail("RE-new", timedelta(days=29))])
    session.commit()

    summary = retention(session, gateway)

    assert double.deleted_recordings == ["RE-old"]
    assert summary.recordings_deleted == 1
    old, new = (session.scalar(select(Voicemail).where(Voicemail.recording_sid == s)) for s in ("RE-old", "RE-new"))
    assert old.recording_url is None and old.recording_deleted_at == NOW
    assert new.recording_url is not None and new.recording_deleted_at is None


def test_a_recording_twilio_would_not_delete_is_kept_and_tried_again_next_time(session, gateway, double):
    double.add_recording("RE-old", b"audio")
    session.add(voicemail("RE-old", timedelta(days=40)))
    session.commit()
    double.queue(500, route="recordings")

    assert retention(session, gateway).recordings_kept_for_retry == 1
    assert session.scalar(select(Voicemail)).recording_url is not None

    assert retention(session, gateway).recordings_deleted == 1
    assert session.scalar(select(Voicemail)).recording_url is None


def test_closed_callbacks_are_anonymised_after_90_days_and_open_ones_never(session, gateway):
    old_done = callback(CallbackStatus.COMPLETED, timedelta(days=91))
    recent_done = callback(CallbackStatus.CANCELLED, timedelta(days=89))
    old_but_open = callback(CallbackStatus.OVERDUE, timedelta(days=200))
    session.add_all([old_done, recent_done, old_but_open])
    session.flush()
    session.add(InboundText(message_sid="SM1", from_number=MOBILE, body="yes see you then", command="yes",
                            callback_id=old_done.id, received_at=NOW - timedelta(days=95)))
    session.commit()

    retention(session, gateway)

    old_done, recent_done, old_but_open = (session.get(Callback, c.id) for c in (old_done, recent_done, old_but_open))
    assert old_done.phone_number == REDACTED and old_done.anonymised_at == NOW
    assert old_done.status == CallbackStatus.COMPLETED  # the queue's counts stay right
    assert [r.to_number for r in old_done.reminders] == [REDACTED] and old_done.reminders[0].body is None
    assert [e.detail for e in old_done.events] == [""]
    reply = session.scalar(select(InboundText))
    assert (reply.from_number, reply.body) == (REDACTED, "")
    for kept in (recent_done, old_but_open):
        assert kept.phone_number == LANDLINE and kept.events[0].detail.startswith("Prefers")


def test_calls_placed_for_a_closed_callback_lose_the_victims_number_with_it(session, gateway):
    from ivr.models import CallAttempt, StaffUser

    old_done = callback(CallbackStatus.COMPLETED, timedelta(days=91))
    officer = StaffUser(email="officer@example.org", password_hash="-", session_token="-")
    session.add_all([old_done, officer])
    session.flush()
    for ended in (NOW - timedelta(days=95), None):  # one left live by a lost status callback
        session.add(CallAttempt(callback_id=old_done.id, staff_id=officer.id, to_number=LANDLINE,
                                officer_number=MOBILE, placed_at=NOW - timedelta(days=95), ended_at=ended))
    session.commit()

    retention(session, gateway)

    attempts = session.scalars(select(CallAttempt)).all()
    assert [(a.to_number, a.officer_number) for a in attempts] == [(REDACTED, MOBILE)] * 2
    assert all(a.ended_at is not None for a in attempts)


def test_old_calls_voicemails_and_stray_texts_lose_their_numbers(session, gateway, double):
    double.add_recording("RE-1", b"a")
    session.add_all([
        Call(call_sid="CA-old", from_number=MOBILE, keyed_number=LANDLINE, started_at=NOW - timedelta(days=100)),
        Call(call_sid="CA-new", from_number=MOBILE, started_at=NOW - timedelta(days=10)),
        voicemail("RE-1", timedelta(days=100)),
        InboundText(message_sid="SM-stray", from_number=MOBILE, body="who is this", command="other",
                    received_at=NOW - timedelta(days=100)),
    ])
    session.commit()

    retention(session, gateway)

    calls = {c.call_sid: c for c in session.scalars(select(Call))}
    assert calls["CA-old"].from_number is None and calls["CA-old"].keyed_number is None
    assert calls["CA-new"].from_number == MOBILE
    assert session.scalar(select(Voicemail)).from_number is None
    assert session.scalar(select(InboundText)).body == ""


def test_officers_notes_on_an_old_voicemail_go_with_its_number(session, gateway, double):
    double.add_recording("RE-old", b"a")
    old, recent = voicemail("RE-old", timedelta(days=100)), voicemail("RE-new", timedelta(days=10))
    session.add_all([old, recent])
    session.flush()
    for message in (old, recent):
        session.add(VoicemailEvent(voicemail_id=message.id, kind="note", detail="Wants a call after 3pm", at=NOW))
    session.commit()

    retention(session, gateway)

    notes = dict(session.execute(select(VoicemailEvent.voicemail_id, VoicemailEvent.detail)).all())
    assert notes == {old.id: "", recent.id: "Wants a call after 3pm"}


def test_failed_sign_ins_and_their_addresses_are_gone_after_a_day(session, gateway):
    from ivr.models import SignInFailure

    session.add_all([SignInFailure(at=NOW - timedelta(hours=25), account="a" * 64, address="198.51.100.7"),
                     SignInFailure(at=NOW - timedelta(hours=2), account="b" * 64, address="198.51.100.8")])
    session.commit()
    assert retention(session, gateway).sign_in_failures_deleted == 1
    assert [f.address for f in session.scalars(select(SignInFailure))] == ["198.51.100.8"]


def test_running_twice_changes_nothing_more(session, gateway, double):
    double.add_recording("RE-old", b"audio")
    session.add_all([voicemail("RE-old", timedelta(days=31)), callback(CallbackStatus.COMPLETED, timedelta(days=91))])
    session.commit()
    retention(session, gateway)
    requests_after_first = len(double.requests)

    second = retention(session, gateway)

    assert second == type(second)()  # nothing left to do
    assert len(double.requests) == requests_after_first
