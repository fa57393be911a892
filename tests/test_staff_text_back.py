"""Officers text victims back from the callback page (and from a stray text's page): an approved
discreet reply or their own words, checked as every text is, sent by the clock from the helpline's
number with its delivery shown in the conversation; refused, with the reason, whenever a rule says no."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr import reminders, staff_texts
from ivr.models import Callback, InboundText, Reminder, ReminderStatus, TextKind
from scheduler import run_once
from tests.conftest import HELPLINE_NUMBER, LANDLINE, MOBILE, at_london

MONDAY_10AM = at_london(2026, 11, 30, 10)
LATER_DAY = date(2026, 12, 3)  # the callbacks' window: none of their reminders falls due in these tests
TRIED_TO_CALL = "We tried to call you. Reply with a time that suits you."


@pytest.fixture
def app_config(app_config, double):
    app_config.update(TWILIO_API_BASE_URL=double.base_url, TWILIO_HTTP_TIMEOUT=1.0, SMS_RATE_PER_SECOND=0,
                      STAFF_IDLE_MINUTES=24 * 60, STAFF_SESSION_HOURS=48)  # one sign-in lasts the evening
    return app_config


@pytest.fixture
def officer(staff_login, clock):
    clock.moment = MONDAY_10AM
    staff_login.login()
    return staff_login


def form_key(client, page: str) -> str:
    """The key of the page's text form; a new one where the page shows no form (a page opened earlier)."""
    found = re.search(r'name="key" type="hidden" value="([^"]+)"', client.get(page).get_data(as_text=True))
    return found.group(1) if found else "a-page-opened-before-" + page


def text_back(officer, callback_id: int, reply: str = "staff_tried_to_call", own: str = "", key: str | None = None):
    page = f"/staff/callbacks/{callback_id}"
    key = key or form_key(officer.client, page)
    return officer.post(f"{page}/texts", {"reply": reply, "own": own, "key": key}, page=page)


def officers_texts(session):
    session.expire_all()
    return session.scalars(select(Reminder).where(Reminder.kind == TextKind.STAFF).order_by(Reminder.id)).all()


def conversation(client, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    start = html.index('id="conversation-heading"')
    return html[start:html.index("</section>", start)]


def test_a_reply_reaches_twilio_once_from_the_helpline_number_and_its_delivery_shows(
        app, officer, client, make_callback, session, double, twilio, clock):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    key = form_key(client, f"/staff/callbacks/{callback_id}")
    first = text_back(officer, callback_id, key=key)
    again = text_back(officer, callback_id, key=key)  # a double click sends the same form twice
    assert first.status_code == again.status_code == 303
    assert len(officers_texts(session)) == 1
    page = f"/staff/callbacks/{callback_id}"
    assert "already sent once" in client.get(page).get_data(as_text=True)

    assert run_once(app) == {"sent": 1}
    assert run_once(app) == {}
    (message,) = double.messages
    assert (message.form["To"], message.form["From"], message.form["Body"]) == (MOBILE, HELPLINE_NUMBER, TRIED_TO_CALL)
    assert "Sent, not yet reported delivered" in conversation(client, page)

    twilio.post("/sms/status", {"MessageSid": officers_texts(session)[0].message_sid, "MessageStatus": "delivered"})
    thread = conversation(client, page)
    assert TRIED_TO_CALL in thread and "Delivered" in thread


def test_the_conversation_reads_oldest_first_with_their_replies(app, officer, client, make_callback, session, twilio):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "1" * 32, "From": MOBILE, "Body": "can you call after 3 instead?"})
    text_back(officer, callback_id, reply="staff_call_as_asked")
    thread = conversation(client, f"/staff/callbacks/{callback_id}")
    assert thread.index("can you call after 3 instead?") < thread.index("call you at the time you gave")
    assert "They sent" in thread and "We sent" in thread


def test_in_the_quiet_hours_it_waits_for_8am_and_the_officer_is_told(app, officer, client, make_callback, session,
                                                                      double, clock):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    clock.moment = at_london(2026, 11, 30, 21, 30)
    page = f"/staff/callbacks/{callback_id}"
    assert "it will wait until 8am" in client.get(page).get_data(as_text=True)
    response = text_back(officer, callback_id)
    assert response.status_code == 303
    told = client.get(page).get_data(as_text=True)
    assert "No texts go between 8pm and 8am, so this one waits: it goes at Tue 1 Dec, 8am" in told
    assert "Waiting for 8am" in conversation(client, page)
    assert run_once(app) == {} and not double.messages
    clock.moment = at_london(2026, 12, 1, 8, 0)
    assert run_once(app) == {"sent": 1}


def test_never_to_a_number_that_said_stop(app, officer, client, make_callback, session, twilio):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "2" * 32, "From": MOBILE, "Body": "STOP"})
    page = client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True)
    assert "No text can go: This number replied STOP" in page
    response = text_back(officer, callback_id)
    assert response.status_code == 400
    assert "This number replied STOP" in response.get_data(as_text=True)
    assert officers_texts(session) == []


def test_a_stop_after_the_text_was_queued_still_stops_it(app, officer, make_callback, session, twilio, double, clock):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    clock.moment = at_london(2026, 11, 30, 22)
    text_back(officer, callback_id)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "3" * 32, "From": MOBILE, "Body": "STOP"})
    clock.moment = at_london(2026, 12, 1, 8, 5)
    run_once(app)
    assert not double.messages
    assert officers_texts(session)[0].status == ReminderStatus.CANCELLED


def test_not_safe_to_talk_stops_officers_texts_too(app, officer, client, make_callback, session):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    page = f"/staff/callbacks/{callback_id}"
    officer.post(f"{page}/attempt", {"outcome": "not_safe"}, page=page)
    response = text_back(officer, callback_id)
    assert response.status_code == 400
    assert "It was not safe to talk" in response.get_data(as_text=True)
    assert officers_texts(session) == []


def test_a_reply_waiting_to_be_read_does_not_hold_the_answer_and_reading_it_keeps_it(
        app, officer, make_callback, session, twilio, double, clock):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "4" * 32, "From": MOBILE, "Body": "not today please"})
    clock.moment = at_london(2026, 11, 30, 20, 30)
    text_back(officer, callback_id, reply="staff_what_time")
    page = f"/staff/callbacks/{callback_id}"
    officer.post(f"{page}/replies-read", page=page)  # replans the reminders; the officer's text stays
    clock.moment = at_london(2026, 12, 1, 8, 1)
    assert run_once(app) == {"sent": 1}
    assert double.messages[0].form["Body"].startswith("What day and time suits you?")


@pytest.mark.parametrize("own, reason", [
    ("", "Write the text, or choose one of the approved replies."),
    ("x" * 161, "The text is 161 characters long; one text holds 160. Shorten it by 1."),
    ("We’ll call at 3", "“’” cannot go in a plain text"),
    ("Call back? 🙂", "cannot go in a plain text"),
    ("The police asked us to call you", "Leave out “police”"),
    ("About the crime: can we talk?", "Leave out “crime”"),
    ("Your restorative meeting is on Monday", "Leave out “restorative”"),
    ("Can we talk at 3? Thanks, Sarah", "Leave out names (“Sarah”)"),
])
def test_own_words_are_checked_as_every_text_is(app, officer, make_callback, session, own, reason):
    response = text_back(officer, make_callback(day=LATER_DAY), reply="own", own=own)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert officers_texts(session) == []


def test_own_words_that_pass_go_as_written(app, officer, make_callback, session):
    text_back(officer, make_callback(day=LATER_DAY), reply="own", own="Is Thursday at 2pm OK? Reply YES or give a time.")
    assert officers_texts(session)[0].body == "Is Thursday at 2pm OK? Reply YES or give a time."


def test_only_a_mobile_and_never_a_keyed_in_number(app, officer, client, make_callback, session):
    landline = make_callback(day=LATER_DAY, phone_number=LANDLINE, texts_ok=False)
    response = text_back(officer, landline)
    assert response.status_code == 400 and "Texts can only go to a mobile number." in response.get_data(as_text=True)
    keyed = make_callback(day=LATER_DAY, phone_number="+447911123499", texts_ok=False)
    session.get(Callback, keyed).number_source = "keyed"
    session.commit()
    assert "may not be theirs" in text_back(officer, keyed).get_data(as_text=True)
    assert officers_texts(session) == []


def test_a_form_without_its_key_is_refused_not_sent_unkeyed(app, officer, make_callback, session):
    callback_id = make_callback(day=LATER_DAY)
    page = f"/staff/callbacks/{callback_id}"
    response = officer.post(f"{page}/texts", {"reply": "staff_tried_to_call"}, page=page)
    assert response.status_code == 400 and "reload the page and try again" in response.get_data(as_text=True)
    assert officers_texts(session) == []


def test_no_text_to_someone_who_did_not_agree_unless_they_texted_us(app, officer, make_callback, session, twilio):
    callback_id = make_callback(day=LATER_DAY, phone_number=MOBILE, texts_ok=False)
    assert "did not agree to be texted" in text_back(officer, callback_id).get_data(as_text=True)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "5" * 32, "From": MOBILE, "Body": "can you text me instead"})
    assert text_back(officer, callback_id).status_code == 303


def test_a_stray_text_is_answered_from_its_own_page(app, officer, client, session, double):
    stray = InboundText(message_sid="SM" + "6" * 32, from_number=MOBILE, body="who is this?", command="other",
                        received_at=MONDAY_10AM - timedelta(minutes=5))
    session.add(stray)
    session.commit()
    assert f"/staff/texts/{stray.id}" in client.get("/staff/").get_data(as_text=True)
    page = f"/staff/texts/{stray.id}"
    key = form_key(client, page)
    response = officer.post(f"{page}/reply", {"reply": "staff_no_need_to_reply", "key": key}, page=page)
    assert response.status_code == 303
    assert run_once(app) == {"sent": 1}
    assert double.messages[0].form["To"] == MOBILE
    thread = conversation(client, page)
    assert thread.index("who is this?") < thread.index("There is no need to reply")


def test_every_text_the_service_can_send_passes_the_one_check():
    """The approved replies, and the reminders and answers: one rule for all."""
    folder = Path(reminders.__file__).parent.parent / "templates" / "sms"
    names = [path.stem for path in folder.glob("*.txt")]
    assert {a.key for a in staff_texts.approved_replies()} >= {"staff_tried_to_call", "staff_what_time"}
    for name in names:
        text = reminders.render_text(name, when="Mon 30 Nov, 9am-12 noon")
        assert staff_texts.check_words(text) is None, (name, text)


def test_a_reply_to_a_stray_text_is_forgotten_with_the_stray_text(app, officer, client, session):
    from ivr import retention

    stray = InboundText(message_sid="SM" + "8" * 32, from_number=MOBILE, body="who is this?", command="other",
                        received_at=MONDAY_10AM)
    session.add(stray)
    session.commit()
    page = f"/staff/texts/{stray.id}"
    officer.post(f"{page}/reply", {"reply": "staff_no_need_to_reply", "key": form_key(client, page)}, page=page)
    later = MONDAY_10AM + timedelta(days=400)
    retention.apply_retention(session, app.extensions["gateway"], later, recording_days=30, closed_days=365)
    session.commit()
    (reply,) = officers_texts(session)
    assert (reply.to_number, reply.body) == (retention.REDACTED, None)


def test_no_text_about_a_closed_callback(app, officer, client, make_callback, session):
    callback_id = make_callback(day=LATER_DAY)
    page = f"/staff/callbacks/{callback_id}"
    officer.post(f"{page}/cancel", {"reason": ""}, page=page)
    assert "No text can go: This callback is closed" in client.get(page).get_data(as_text=True)
    response = text_back(officer, callback_id)
    assert response.status_code == 400 and "This callback is closed" in response.get_data(as_text=True)
    assert officers_texts(session) == []
