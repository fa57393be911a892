"""The callback, placed by the service: "Call now" rings the officer, who presses 1; the victim is
called from the helpline's number and asked whether it is a good time before anything identifying
is said. Played end to end with the real twilio SDK against the local Twilio double, signed
webhooks through the TwiML walker, and the staff pages.
"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from ivr.models import AuditEvent, CallAttempt, Callback, CallbackEvent, Reminder, ReminderStatus, StaffUser
from tests.conftest import HELPLINE_NUMBER, MONDAY_MORNING, PUBLIC_URL, at_london

OFFICER_PHONE = "+441642123456"  # the officer's work number, as stored
VICTIM = "+447911123456"  # make_callback's first number


@pytest.fixture
def app_config(app_config, double):
    return app_config | {"TWILIO_API_BASE_URL": double.base_url, "CALLBACK_MAX_ATTEMPTS": 2}


@pytest.fixture
def officer(staff_login, clock):
    """A signed-in officer who has given their work number, on Monday morning (the office open)."""
    clock.moment = MONDAY_MORNING
    staff_login.login()
    answer = staff_login.post("/staff/work-number", {"work_number": "01642 123456"}, page="/staff/work-number")
    assert answer.status_code == 303
    return staff_login


def page_of(client, callback_id: int) -> str:
    return html.unescape(client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True))


def call_now(officer, callback_id: int, **data):
    return officer.post(f"/staff/callbacks/{callback_id}/call", data, page=f"/staff/callbacks/{callback_id}",
                        follow_redirects=True)


def victim_presses(*keys: str, answered_by: str | None = None):
    """The person called: who answers, then the keys they press ("-" is silence, "hangup")."""

    def act(leg):
        if answered_by:
            leg.base_params["AnsweredBy"] = answered_by
        leg.start()
        for key in keys:
            if leg.ended:
                break
            if key == "hangup":
                leg.hang_up()
            elif key == "-":
                leg.silence()
            else:
                leg.press(key)
    return act


def answer_as_officer(double, phone, *keys: str, victim=None, victim_line: str = "completed"):
    """The officer's phone rings (the call the app placed through the double): they press `keys`."""
    call = double.answer_call(phone.transport, public_url=PUBLIC_URL, callee=victim or victim_presses(),
                              dial_outcome=victim_line)
    for key in keys:
        if call.ended:
            break
        call.press(key) if key != "-" else call.silence()
    return call


def attempts(session) -> list[CallAttempt]:
    session.expire_all()
    return list(session.scalars(select(CallAttempt).order_by(CallAttempt.id)))


def status(twilio, attempt_id: int, leg: str, call_status: str, call_sid: str):
    return twilio.post(f"/voice/outbound/status?attempt={attempt_id}&leg={leg}",
                       {"CallSid": call_sid, "CallStatus": call_status, "AccountSid": "AC" + "a" * 32})


# --- the call, both ends -----------------------------------------------------------------------------


def test_officer_starts_and_victim_agrees_they_are_bridged_from_the_helpline_number(
        client, officer, make_callback, double, phone, session, caplog):
    callback_id = make_callback()
    page = html.unescape(call_now(officer, callback_id).get_data(as_text=True))
    assert "Your phone (ending 456) is ringing" in page

    (placed,) = double.calls  # the officer's phone is rung first, from the helpline's number
    assert placed.form["To"] == OFFICER_PHONE and placed.form["From"] == HELPLINE_NUMBER
    assert placed.form["Url"].startswith(PUBLIC_URL + "/voice/outbound/officer")

    call = answer_as_officer(double, phone, "1", victim=victim_presses("1"))
    officer_heard = " ".join(line for line in call.transcript if line.startswith("VCAS"))
    assert f"callback {callback_id}" in officer_heard and "ending four five six" in officer_heard
    assert VICTIM not in officer_heard  # whose callback, nothing personal
    (victim,) = call.legs
    assert call.dialled == [VICTIM] and victim.base_params["From"] == HELPLINE_NUMBER
    said_to_victim = [line for line in victim.transcript if line.startswith("VCAS")]
    assert said_to_victim[:2] == ["VCAS: Hello, this is the call you arranged.",
                                  "VCAS: If it's a good time to talk, press 1. If it isn't, press 2."]
    before_agreeing = " ".join(victim.transcript[:victim.transcript.index("caller: presses 1")])
    assert "Victim Care" not in before_agreeing and "Restorative" not in before_agreeing
    assert "This is the Victim Care and Advice Service" in victim.transcript[-2]
    assert "(connected: they talk)" in call.transcript
    assert "Please record how it went" in call.heard

    (attempt,) = attempts(session)
    assert attempt.result == "agreed" and attempt.ended_at is not None
    assert attempt.officer_call_sid == double.call_sids[0]
    page = page_of(client, callback_id)
    assert "Answered: a good time to talk. Put through to the officer" in page
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.record_id == callback_id)))
    assert {"call", "call_result"} <= actions
    assert "dialling" in caplog.text and VICTIM not in caplog.text and OFFICER_PHONE not in caplog.text  # masked
    # The officer records the conversation with the usual form afterwards.
    officer.post(f"/staff/callbacks/{callback_id}/attempt", {"outcome": "spoke"}, page=f"/staff/callbacks/{callback_id}")
    assert "Spoke to them" in page_of(client, callback_id)


def test_victim_says_not_now_chooses_another_day_and_their_texts_are_planned_for_it(
        client, officer, make_callback, double, phone, session):
    callback_id = make_callback()
    call_now(officer, callback_id)
    # 2: not a good time; 1: another day and time; 1: the first day offered (today); 2: the afternoon.
    call = answer_as_officer(double, phone, "1", victim=victim_presses("2", "1", "1", "2"))
    (victim,) = call.legs
    assert "That's fine." in " ".join(victim.transcript)
    assert "Thank you. We'll call you on Monday the 30th of November, in the afternoon" in victim.heard
    assert "(not connected)" in call.transcript
    assert "They chose another time: Monday the 30th of November, between 12 noon and 5pm." in call.heard
    session.expire_all()
    callback = session.get(Callback, callback_id)
    assert callback.window_start == at_london(2026, 11, 30, 12) and callback.texts_held is None
    planned = [r for r in callback.reminders if r.status == ReminderStatus.PENDING]
    assert [r.due_at for r in planned] == [at_london(2026, 11, 30, 11)]  # an hour before the new time
    page = page_of(client, callback_id)
    assert "not a good time to talk" in page and "They chose another time on the call" in page


def test_victim_says_not_now_and_hangs_up_their_texts_are_held_as_for_not_safe(
        client, officer, make_callback, double, phone, session):
    callback_id = make_callback(day=date(2026, 11, 30))
    session.add(Reminder(callback_id=callback_id, kind="hour_before", to_number=VICTIM, due_at=at_london(2026, 11, 30, 11),
                         useful_until=at_london(2026, 11, 30, 12), status="pending"))
    session.commit()
    call_now(officer, callback_id)
    call = answer_as_officer(double, phone, "1", victim=victim_presses("2", "hangup"))
    assert "They said it isn't a good time to talk. Their texts are held until you decide." in call.heard
    session.expire_all()
    callback = session.get(Callback, callback_id)
    assert callback.texts_held == "not_safe"
    assert all(r.status != ReminderStatus.PENDING for r in callback.reminders)
    page = page_of(client, callback_id)
    assert "Texts are held" in page and "“Call now” is not available" in page


@pytest.mark.parametrize(("consented", "result", "left"), [(True, "voicemail_left", True), (False, "machine", False)])
def test_an_answering_machine_gets_a_discreet_message_only_if_they_agreed(
        consented, result, left, officer, make_callback, double, phone, session):
    callback_id = make_callback(voicemail_ok=consented)
    call_now(officer, callback_id)
    call = answer_as_officer(double, phone, "1", victim=victim_presses(answered_by="machine_end_beep"))
    (machine,) = call.legs
    said = " ".join(line for line in machine.transcript if line.startswith("VCAS"))
    if left:
        assert said.startswith("VCAS: Hello, this is a message about the call you arranged.")
        assert "Victim Care" not in said and "Restorative" not in said and "justice" not in said.lower()
    else:
        assert said == ""
    assert "(not connected)" in call.transcript
    assert attempts(session)[0].result == result


@pytest.mark.parametrize(("line", "result", "officer_hears"), [
    ("no-answer", "no_answer", "They didn't answer."), ("busy", "busy", "Their line was busy.")])
def test_no_answer_and_busy_are_recorded_and_told_to_the_officer(
        line, result, officer_hears, client, officer, make_callback, double, phone, session):
    callback_id = make_callback()
    call_now(officer, callback_id)
    call = answer_as_officer(double, phone, "1", victim_line=line)
    assert officer_hears in call.heard
    (attempt,) = attempts(session)
    assert attempt.result == result and attempt.ended_at is not None
    assert call.legs == []  # nobody answered: nothing was said to anyone


def test_silence_is_no_answer_and_nothing_more_is_said(officer, make_callback, double, phone, session):
    callback_id = make_callback()
    call_now(officer, callback_id)
    call = answer_as_officer(double, phone, "1", victim=victim_presses("-", "-"))
    (victim,) = call.legs
    said = [line for line in victim.transcript if line.startswith("VCAS")]
    assert said[-1] == "VCAS: If it's a good time to talk, press 1. If it isn't, press 2."
    assert victim.how_ended == "hangup"
    assert attempts(session)[0].result == "no_answer"


def test_officer_who_does_not_start_the_call_rings_nobody(client, officer, make_callback, double, phone, session):
    callback_id = make_callback()
    call_now(officer, callback_id)
    call = answer_as_officer(double, phone, "-", "-", "-")
    assert call.dialled == [] and "hasn't been started" in call.heard
    (attempt,) = attempts(session)
    assert attempt.result == "officer_missed" and attempt.ended_at is not None
    # ... and a phone nobody answers, as Twilio reports it, is the same.
    call_now(officer, callback_id)
    second = attempts(session)[-1]
    assert second.ended_at is None
    assert "A call is under way" in page_of(client, callback_id)  # seen on a refresh, no script needed
    status(phone.twilio, second.id, "officer", "no-answer", double.call_sids[-1])
    assert attempts(session)[-1].result == "officer_missed"
    assert "Not started: the officer's phone was not answered" in page_of(client, callback_id)


# --- the rules ---------------------------------------------------------------------------------------


def test_outside_the_window_is_refused_unless_the_officer_confirms(client, officer, make_callback, double, session):
    callback_id = make_callback(day=date(2026, 12, 1))  # tomorrow
    page = page_of(client, callback_id)
    assert "It is outside the time they chose (Tue 1 Dec, 9am–12 noon)" in page
    answer = call_now(officer, callback_id)
    assert "Not called: It is outside the time they chose" in html.unescape(answer.get_data(as_text=True))
    assert double.calls == [] and attempts(session) == []
    call_now(officer, callback_id, outside_window="y")
    assert len(double.calls) == 1 and attempts(session)[0].outside_window


def test_a_number_the_service_does_not_call_is_refused(client, officer, make_callback, double, session):
    callback_id = make_callback()
    session.get(Callback, callback_id).phone_number = "+449012345678"  # premium rate
    session.commit()
    page = page_of(client, callback_id)
    assert "“Call now” is not available:</strong> The service does not call this kind of number" in page
    call_now(officer, callback_id)
    assert double.calls == []


def test_closed_callbacks_and_officers_without_a_work_number_get_no_call(
        client, staff_login, clock, make_callback, double, session):
    clock.moment = MONDAY_MORNING
    staff_login.login()
    callback_id = make_callback()
    assert "Add your work number first" in page_of(client, callback_id)
    answer = call_now(staff_login, callback_id)
    assert "Not called: Add your work number first" in html.unescape(answer.get_data(as_text=True))
    refused = staff_login.post("/staff/work-number", {"work_number": "0900 123 4567"}, page="/staff/work-number")
    assert refused.status_code == 400 and "costs extra" in refused.get_data(as_text=True)
    staff_login.post("/staff/work-number", {"work_number": "01642 123456"}, page="/staff/work-number")
    staff_login.post(f"/staff/callbacks/{callback_id}/cancel", {}, page=f"/staff/callbacks/{callback_id}")
    assert "This callback is cancelled" in page_of(client, callback_id)
    call_now(staff_login, callback_id)
    assert double.calls == []


def test_an_administrator_sets_an_officers_work_number(client, staff_login, session):
    officer_id = staff_login.create("second@example.org")
    staff_login.login("admin@example.org", role="admin")
    assert "Work number (none yet)" in client.get("/staff/admin/accounts").get_data(as_text=True)
    page = f"/staff/admin/accounts/{officer_id}/work-number"
    assert staff_login.post(page, {"work_number": "07911 123499"}, page=page).status_code == 303
    session.expire_all()
    assert session.get(StaffUser, officer_id).work_number == "+447911123499"


def test_two_clicks_place_one_call(client, officer, make_callback, double, session):
    callback_id = make_callback()
    token = officer.csrf_token(f"/staff/callbacks/{callback_id}")
    first = client.post(f"/staff/callbacks/{callback_id}/call", data={"csrf_token": token})
    second = client.post(f"/staff/callbacks/{callback_id}/call", data={"csrf_token": token}, follow_redirects=True)
    assert first.status_code == 303
    assert "A call to this number is under way" in html.unescape(second.get_data(as_text=True))
    assert len(double.calls) == 1 and len(attempts(session)) == 1


def test_the_database_allows_one_live_call_per_callback_and_per_number(officer, make_callback, session):
    from sqlalchemy.exc import IntegrityError

    first, other = make_callback(), make_callback(phone_number=VICTIM, day=date(2026, 12, 1))
    staff_id = session.scalars(select(StaffUser.id)).first()
    row = dict(staff_id=staff_id, to_number=VICTIM, officer_number=OFFICER_PHONE, placed_at=MONDAY_MORNING)
    session.add(CallAttempt(callback_id=first, **row))
    session.commit()
    for callback_id in (first, other):  # the same callback, or another callback to the same number
        session.add(CallAttempt(callback_id=callback_id, **row))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()


def test_status_callbacks_replayed_change_nothing(client, officer, make_callback, double, phone, session):
    callback_id = make_callback()
    call_now(officer, callback_id)
    answer_as_officer(double, phone, "1", victim=victim_presses("1"))
    (attempt,) = attempts(session)
    history = len(session.scalars(select(CallbackEvent).where(CallbackEvent.callback_id == callback_id)).all())
    audit = len(session.scalars(select(AuditEvent)).all())
    for _ in range(2):  # Twilio's reports, each twice, and a late "busy" that must not rewrite the result
        for leg, call_status in (("victim", "completed"), ("officer", "completed"), ("victim", "busy")):
            assert status(phone.twilio, attempt.id, leg, call_status, double.call_sids[0]).status_code == 200
    phone.replay_last()
    (again,) = attempts(session)
    assert (again.result, again.result_at, again.ended_at) == (attempt.result, attempt.result_at, attempt.ended_at)
    assert len(session.scalars(select(CallbackEvent).where(CallbackEvent.callback_id == callback_id)).all()) == history
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action != "view")).all()) <= audit


def test_an_unsigned_status_callback_is_refused(client, officer, make_callback):
    answer = client.post("/voice/outbound/status?attempt=1&leg=officer", data={"CallStatus": "completed"})
    assert answer.status_code == 403


def test_after_the_most_attempts_the_callback_needs_a_decision(client, officer, make_callback, double, phone, session):
    callback_id = make_callback()
    for _ in range(2):
        call_now(officer, callback_id)
        answer_as_officer(double, phone, "1", victim_line="no-answer")
    assert "Called 2 times without a conversation" in page_of(client, callback_id)
    queue = html.unescape(client.get("/staff/").get_data(as_text=True))
    flagged = queue[queue.index("Needs attention"):queue.index("Due today")]
    assert re.search(r"Called 2 times", flagged)


@pytest.mark.parametrize(("path", "params"), [
    ("/voice/outbound/officer?attempt=%C2%B2", {}),
    ("/voice/outbound/officer/start?attempt=" + "9" * 5_000, {"Digits": "1"}),
    ("/voice/outbound/victim?attempt=99999", {"AnsweredBy": "machine_end_beep"}),
    ("/voice/outbound/victim?attempt={id}", {"AnsweredBy": "\x00" * 3}),
    ("/voice/outbound/victim/good-time?attempt={id}", {"Digits": "²"}),
    ("/voice/outbound/victim/day?attempt={id}&days=not-a-day", {"Digits": "1"}),
    ("/voice/outbound/victim/window?attempt={id}&day=2026-13-40", {"Digits": "1"}),
    ("/voice/outbound/dialled?attempt={id}", {"DialCallStatus": "ringing\x00"}),
    ("/voice/outbound/status?attempt={id}&leg=nobody", {"CallStatus": "completed"}),
    ("/voice/outbound/status?attempt={id}&leg=victim", {"CallStatus": "²", "CallSid": "not a sid"}),
])
def test_hostile_or_stale_requests_get_twiml_never_an_error(path, params, officer, make_callback, phone, session):
    call_now(officer, make_callback())
    (attempt,) = attempts(session)
    answer = phone.twilio.post(path.format(id=attempt.id), params)
    assert answer.status_code == 200 and answer.get_data(as_text=True).startswith("<?xml")


def test_two_workers_pressing_call_now_at_the_same_moment_open_one_attempt(app, officer, make_callback, session):
    """Both check the rule and find the line free; the database lets one of them store a live call."""
    import threading

    from ivr import outbound
    from ivr.db.sessions import session_scope

    callback_id = make_callback()
    both_checked, outcomes = threading.Barrier(2, timeout=10), []

    def worker():
        with session_scope(app) as db:
            callback, officer_row = db.get(Callback, callback_id), db.scalars(select(StaffUser)).first()
            assert outbound.why_not_call(db, callback, officer_row, MONDAY_MORNING) is None
            both_checked.wait()
            try:
                outbound.open_attempt(db, callback, officer_row, MONDAY_MORNING, override_window=False, simulated=True)
                db.commit()
                outcomes.append("placed")
            except outbound.CallRefused:
                db.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["placed", "refused"]
    assert len(attempts(session)) == 1


def test_a_call_twilio_will_not_take_is_recorded_and_the_line_is_free_again(client, officer, make_callback, double,
                                                                          session):
    callback_id = make_callback()
    double.queue(500, route="calls")
    answer = html.unescape(call_now(officer, callback_id).get_data(as_text=True))
    assert "The call could not be placed" in answer
    (attempt,) = attempts(session)
    assert attempt.result == "failed" and attempt.ended_at is not None
    assert "The call could not be placed" in page_of(client, callback_id)
    call_now(officer, callback_id)  # and "Call now" works again
    assert len(double.calls) == 1 and attempts(session)[-1].ended_at is None
    placed = double.calls[0].form
    assert placed["StatusCallback"].startswith(PUBLIC_URL + "/voice/outbound/status")
    assert placed["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]


def test_the_officer_can_hear_whose_callback_again_before_starting(officer, make_callback, double, phone):
    call_now(officer, make_callback())
    call = answer_as_officer(double, phone, "9")
    assert call.heard.count("To call them now, press 1.") == 1 and "Sorry" not in call.heard
    call.press("1")
    assert call.dialled == [VICTIM]


# --- from a voicemail ----------------------------------------------------------------------------------


def voicemail_from(session, number: str | None) -> int:
    from ivr.models import Voicemail

    voicemail = Voicemail(recording_sid="RE" + "1" * 32, from_number=number, region="durham", duration_seconds=20,
                          created_at=MONDAY_MORNING)
    session.add(voicemail)
    session.commit()
    return voicemail.id


def test_call_now_on_a_voicemail_books_the_window_we_are_in_and_calls_with_nothing_left_or_texted(
        client, officer, double, phone, session):
    from ivr.models import Voicemail

    voicemail_id = voicemail_from(session, VICTIM)
    page = f"/staff/voicemails/{voicemail_id}"
    answer = officer.post(f"{page}/call", {}, page=page, follow_redirects=True)
    assert "Your phone (ending 456) is ringing" in html.unescape(answer.get_data(as_text=True))
    session.expire_all()
    (callback,) = session.scalars(select(Callback))
    assert (callback.phone_number, callback.region, callback.voicemail_ok, callback.texts_ok) == (
        VICTIM, "durham", False, False)
    assert callback.window_start <= MONDAY_MORNING < callback.window_end
    assert session.get(Voicemail, voicemail_id).status == "actioned"
    call = answer_as_officer(double, phone, "1", victim=victim_presses(answered_by="machine_end_beep"))
    assert [line for line in call.legs[0].transcript if line.startswith("VCAS")] == []  # no voicemail agreed
    assert attempts(session)[0].result == "machine"


def test_call_now_is_not_offered_on_a_withheld_voicemail(client, officer, double, session):
    voicemail_id = voicemail_from(session, None)
    page = f"/staff/voicemails/{voicemail_id}"
    assert "“Call now” is not available:</strong> The message came from a withheld number" in html.unescape(
        client.get(page).get_data(as_text=True))
    officer.post(f"{page}/call", {}, page=page)
    assert double.calls == [] and session.scalars(select(Callback)).all() == []


def test_the_officer_is_told_before_starting_that_an_interpreter_is_needed(
        client, officer, make_callback, double, phone, session):
    callback_id = make_callback()
    session.get(Callback, callback_id).interpreter_language = "pl"
    session.commit()
    call_now(officer, callback_id)
    call = answer_as_officer(double, phone)
    assert "They need a Polish interpreter. Have one ready before you start." in call.heard
    assert call.heard.index("Polish interpreter") < call.heard.index("To call them now, press 1.")
