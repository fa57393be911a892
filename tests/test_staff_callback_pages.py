"""One callback's page: what an officer sees, and every action through the page's own forms."""

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from ivr import outbox
from ivr.models import AuditEvent, Callback, CallbackEvent, CallbackStatus, InboundText, Reminder
from tests.conftest import LANDLINE, MOBILE, utc

FRIDAY = utc(2026, 11, 27, 10)
MONDAY_8AM = utc(2026, 11, 30, 8)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    clock.moment = MONDAY_8AM


@pytest.fixture
def officer(staff_login):
    staff_login.login()
    return staff_login


def page_of(client, callback_id) -> str:
    return client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True)


def test_the_page_shows_number_window_consents_texts_replies_and_history(client, officer, make_callback, session):
    callback_id = make_callback(day=date(2026, 11, 30), voicemail_ok=False)
    session.add(Reminder(callback_id=callback_id, kind="day_before", to_number=MOBILE, due_at=utc(2026, 11, 29, 11),
                         useful_until=utc(2026, 11, 30, 9), status="sent", delivery_status="delivered", simulated=True))
    session.add(InboundText(message_sid="SM1", from_number=MOBILE, body="Yes that is fine", command="yes",
                            callback_id=callback_id, received_at=utc(2026, 11, 29, 12)))
    session.commit()
    page = page_of(client, callback_id)
    assert "07911 123456" in page
    assert "Mon 30 Nov, 9am–12 noon" in page
    assert "No – do not leave a voicemail" in page
    assert "Day before: sent, delivered, simulated (not really sent)" in page
    assert "Yes that is fine" in page
    assert "Booked" in page and "by the caller on the phone line" in page


def test_the_page_says_what_happened_in_words_and_shows_the_words_of_each_text(client, officer, make_callback,
                                                                            session, twilio):
    callback_id = make_callback(day=date(2026, 12, 1))
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "1" * 32, "From": MOBILE, "Body": "Yes"})
    assert "Confirmed (they replied YES)" in page_of(client, callback_id)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "2" * 32, "From": MOBILE, "Body": "Can you ring after 3"})
    officer.post(f"/staff/callbacks/{callback_id}/reschedule", {"day": "2026-12-02", "window": "afternoon"},
                 page=f"/staff/callbacks/{callback_id}")
    page = html.unescape(page_of(client, callback_id))
    # The words each reminder carries (stored when it was planned, and sent as they are).
    reminder = ("Reminder: we'll call you on Wed 2 Dec, 12 noon-5pm. Reply YES to confirm, CHANGE to rearrange, "
                "or STOP for no more texts.")
    assert reminder in page
    assert "Reminder: we'll call you on Tue 1 Dec, 9am-12 noon." in page  # the cancelled ones too
    # Their replies, what we took them to mean, and what we texted back.
    assert "YES: confirms the call" in page and "Thank you, that's confirmed. We'll call you as arranged." in page
    assert "Can you ring after 3" in page and "Not a reply word: please read it" in page
    assert "Nothing (no automatic answer)" in page
    # The history in words, times as the helpline says them.
    assert "Replied by text" in page and "Rescheduled" in page
    assert "from Tue 1 Dec, 9am–12 noon to Wed 2 Dec, 12 noon–5pm" in page
    assert "Changed: rescheduled to Wed 2 Dec, 12 noon–5pm" in page and "Viewed" in page  # who did what
    for label in ("Text_reply", "Texts_held", "OTHER", "09:00", "12:00", "Dec 2026", "Nov 2026"):
        assert label not in page.split("<main", 1)[1].split("Who has seen or changed this record")[0], label


def test_recording_spoke_adds_an_attempt_and_an_audit_row(client, officer, make_callback, session):
    callback_id = make_callback()
    response = officer.post(f"/staff/callbacks/{callback_id}/attempt", {"outcome": "spoke", "detail": "All fine"},
                            page=f"/staff/callbacks/{callback_id}")
    assert response.status_code == 303
    event = session.scalars(select(CallbackEvent).where(CallbackEvent.kind == "attempt")).one()
    assert (event.outcome, event.detail, event.staff_id) == ("spoke", "All fine", 1)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "update")).detail == "attempt: spoke"
    assert "The attempt is recorded" in page_of(client, callback_id)


def test_leaving_a_voicemail_without_consent_is_refused_on_the_page(client, officer, make_callback, session):
    callback_id = make_callback(voicemail_ok=False)
    page = page_of(client, callback_id)
    assert 'value="left_voicemail" disabled' in page
    response = officer.post(f"/staff/callbacks/{callback_id}/attempt", {"outcome": "left_voicemail"})
    assert response.status_code == 400
    assert "did not agree to a voicemail" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(CallbackEvent).where(CallbackEvent.kind == "attempt")) == 0


def test_reschedule_moves_the_callback_and_replans_its_reminders(client, staff_login, make_callback, session, clock):
    clock.moment = FRIDAY  # booked for Monday morning, rearranged the same day
    callback_id = make_callback(day=date(2026, 11, 30))
    staff_login.login()
    page = page_of(client, callback_id)
    assert '<option value="2026-12-02">Wednesday 2 December</option>' in page
    response = staff_login.post(f"/staff/callbacks/{callback_id}/reschedule",
                                {"day": "2026-12-02", "window": "afternoon"})
    assert response.status_code == 303
    callback = session.get(Callback, callback_id)
    assert callback.window_start == utc(2026, 12, 2, 12)
    texts = session.scalars(select(Reminder).where(Reminder.callback_id == callback_id).order_by(Reminder.id)).all()
    assert [(r.status, r.kind, r.due_at) for r in texts] == [
        ("cancelled", "day_before", utc(2026, 11, 29, 11)), ("cancelled", "hour_before", utc(2026, 11, 30, 8)),
        ("pending", "day_before", utc(2026, 12, 1, 11)), ("pending", "hour_before", utc(2026, 12, 2, 11))]
    assert all("Wed 2 Dec, 12 noon-5pm" in r.body for r in texts[2:])
    assert "rescheduled" in page_of(client, callback_id).lower()


def test_a_stop_also_stops_the_text_the_clock_has_taken(client, staff_login, make_callback, session, clock, twilio):
    clock.moment = FRIDAY
    callback_id = make_callback(day=date(2026, 11, 30))
    clock.moment = utc(2026, 11, 29, 11)  # Sunday 11am: the clock takes the day-before text to send...
    assert len(outbox.claim_due_reminders(session, clock.moment, 100, "clock-1")) == 1
    session.commit()
    # ...and before it goes, the number replies STOP: that text and the hour-before one are cancelled.
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "5" * 32, "From": MOBILE, "Body": "STOP"})
    staff_login.login()
    page = page_of(client, callback_id)
    assert "Day before: cancelled" in page and "Hour before: cancelled" in page


def test_texts_held_for_a_reply_say_so_and_go_once_the_reply_is_read(client, staff_login, make_callback, session,
                                                                      clock, twilio):
    clock.moment = FRIDAY
    callback_id = make_callback(day=date(2026, 11, 30))
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "6" * 32, "From": MOBILE, "Body": "He's home, not today"})
    staff_login.login()
    page = page_of(client, callback_id)
    assert "He&#39;s home, not today" in page or "He's home, not today" in page
    assert page.count("Will not be sent until an officer has read their reply.") == 2
    assert staff_login.post(f"/staff/callbacks/{callback_id}/replies-read", page=f"/staff/callbacks/{callback_id}"
                            ).status_code == 303
    page = page_of(client, callback_id)
    assert "Will not be sent" not in page and "Day before: to go" in page


@pytest.mark.parametrize("data, message", [
    ({"day": "2026-12-02"}, "Choose a morning or afternoon"),
    ({"window": "morning"}, "Choose a day"),
    ({"day": "2026-11-28", "window": "morning"}, "Not a valid choice"),  # a Saturday is never offered
    ({"day": "2027-06-01", "window": "morning"}, "Not a valid choice"),  # too far ahead
    ({"day": "2026-12-02", "window": "evening"}, "Not a valid choice"),
])
def test_reschedule_to_a_window_not_offered_is_refused(client, officer, make_callback, session, data, message):
    callback_id = make_callback(day=date(2026, 11, 30))
    response = officer.post(f"/staff/callbacks/{callback_id}/reschedule", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.get(Callback, callback_id).window_start == utc(2026, 11, 30, 9)


def test_complete_cancel_note_and_assign(client, officer, make_callback, session):
    first, second = make_callback(), make_callback()
    assert officer.post(f"/staff/callbacks/{first}/assign").status_code == 303
    assert officer.post(f"/staff/callbacks/{first}/note", {"text": "Prefers afternoons"}).status_code == 303
    assert officer.post(f"/staff/callbacks/{first}/complete").status_code == 303
    assert officer.post(f"/staff/callbacks/{second}/cancel", {"reason": "Asked us not to call"}).status_code == 303
    session.expire_all()
    done, called_off = session.get(Callback, first), session.get(Callback, second)
    assert (done.status, done.assigned_to_id) == (CallbackStatus.COMPLETED, 1)
    assert called_off.status == CallbackStatus.CANCELLED
    assert [e.kind for e in done.events] == ["booked", "assigned", "note", "completed"]
    page = page_of(client, first)
    assert "Prefers afternoons" in page and "officer@example.org" in page
    assert "Record a call attempt" not in page  # closed: only notes


def test_an_empty_note_shows_an_error_next_to_the_field(client, officer, make_callback):
    callback_id = make_callback()
    response = officer.post(f"/staff/callbacks/{callback_id}/note", {"text": ""})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert "Write the note first" in response.get_data(as_text=True)


def test_an_unknown_callback_is_404(client, officer):
    assert client.get("/staff/callbacks/999").status_code == 404


# --- booking by hand ------------------------------------------------------------------------------

GOOD = {"region": "durham", "phone_number": "07911 123456", "day": "2026-12-01", "window": "morning",
        "voicemail_ok": "yes", "texts_ok": "yes", "note": "Spoke at the front desk"}


def test_an_officer_books_a_callback_by_hand(client, officer, session):
    response = officer.post("/staff/callbacks/new", GOOD, page="/staff/callbacks/new")
    assert response.status_code == 303
    callback = session.scalars(select(Callback)).one()
    assert (callback.phone_number, callback.region, callback.call_sid, callback.created_by_id) == (MOBILE, "durham", None, 1)
    assert (callback.window_start, callback.voicemail_ok, callback.texts_ok) == (utc(2026, 12, 1, 9), True, True)
    assert [(r.kind, r.to_number, r.due_at) for r in callback.reminders] == [
        ("day_before", MOBILE, utc(2026, 11, 30, 11)), ("hour_before", MOBILE, utc(2026, 12, 1, 8))]
    assert [e.kind for e in callback.events] == ["booked", "note"]
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "create")).record_id == callback.id


@pytest.mark.parametrize("change, field, message", [
    ({"phone_number": "12345"}, "phone_number", "Enter a valid UK phone number"),
    ({"phone_number": "+33 1 23 45 67 89"}, "phone_number", "We can only call numbers in the UK"),
    ({"phone_number": "0909 879 0000"}, "phone_number", "it costs extra to call"),
    ({"phone_number": "0871 234 5678"}, "phone_number", "it costs extra to call"),
    ({"phone_number": "070 1234 5678"}, "phone_number", "it costs extra to call"),
    ({"phone_number": "076 2312 3456"}, "phone_number", "it is a pager, internet (VoIP, 056) or freephone number"),
    ({"phone_number": "056 1234 5678"}, "phone_number", "it is a pager, internet (VoIP, 056) or freephone number"),
    ({"phone_number": ""}, "phone_number", "Enter the number to call"),
    ({"phone_number": "01642 123456", "texts_ok": "yes"}, "texts_ok", "only go to a mobile number"),
    ({"voicemail_ok": ""}, "voicemail_ok", "Say whether a voicemail may be left"),
    ({"texts_ok": ""}, "texts_ok", "Say whether they want a text reminder"),
    ({"region": "mars"}, "region", "Not a valid choice"),
    ({"day": "2026-11-28"}, "day", "Not a valid choice"),
])
def test_booking_by_hand_refuses_what_the_phone_line_would(client, officer, session, change, field, message):
    response = officer.post("/staff/callbacks/new", GOOD | change, page="/staff/callbacks/new")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body
    assert f'id="{field}-error"' in body
    assert session.scalar(select(func.count()).select_from(Callback)) == 0


def test_the_example_the_form_prints_is_one_it_accepts(client, officer, session):
    page = client.get("/staff/callbacks/new").get_data(as_text=True)
    assert "A UK mobile or landline, e.g. 0113 496 0123 or 020 7946 0123." in page
    for n, example in enumerate(["0113 496 0123", "020 7946 0123"]):
        response = officer.post("/staff/callbacks/new", GOOD | {"phone_number": example, "texts_ok": "no",
                                                                "window": ["morning", "afternoon"][n]})
        assert response.status_code == 303, response.get_data(as_text=True)
    assert sorted(session.scalars(select(Callback.phone_number))) == ["+441134960123", "+442079460123"]


def test_a_landline_without_texts_is_fine(client, officer, session):
    response = officer.post("/staff/callbacks/new", GOOD | {"phone_number": "01642 123456", "texts_ok": "no"})
    assert response.status_code == 303
    assert session.scalars(select(Callback)).one().phone_number == LANDLINE


def test_a_window_already_past_today_is_not_offered(client, staff_login, clock):
    clock.moment = utc(2026, 11, 30, 13)
    staff_login.login()
    response = staff_login.post("/staff/callbacks/new", GOOD | {"day": "2026-11-30", "window": "morning"})
    assert response.status_code == 400
    assert "That time has passed" in response.get_data(as_text=True)


# --- contact only as the victim chose -----------------------------------------------------------


def test_not_safe_to_talk_holds_every_text_until_an_officer_lets_them_go(client, officer, make_callback, session,
                                                                         clock):
    from scheduler import run_once

    callback_id = make_callback(day=date(2026, 12, 1))  # Tuesday morning: texts Monday 11am and Tuesday 8am
    page = f"/staff/callbacks/{callback_id}"
    assert officer.post(f"{page}/attempt", {"outcome": "not_safe", "detail": "He answered"}, page=page).status_code == 303
    shown = page_of(client, callback_id)
    assert "Texts are held" in shown and "it was not safe to talk" in shown
    assert "Not safe to talk: texts held" in client.get("/staff/").get_data(as_text=True)  # Needs attention

    clock.moment = utc(2026, 11, 30, 11, 1)  # Monday: the day-before text falls due
    assert not {"sent", "simulated"} & set(run_once(officer.app))
    session.expire_all()
    assert {r.status for r in session.get(Callback, callback_id).reminders} == {"held"}

    assert "signed out" in client.get("/staff/", follow_redirects=True).get_data(as_text=True)  # idle for hours
    officer.login()
    assert officer.post(f"{page}/texts-resume", page=page).status_code == 303
    session.expire_all()
    texts = session.get(Callback, callback_id).reminders
    assert [(r.kind, r.status) for r in texts if r.status == "pending"] == [("hour_before", "pending")]
    assert run_once(officer.app).get("simulated") is None  # the hour-before is for Tuesday 8am
    assert "Texts are held" not in page_of(client, callback_id)


def test_an_officer_who_spoke_to_them_can_turn_texts_on_for_a_keyed_in_number(client, officer, phone, session, clock):
    call = phone.ring(None, at=FRIDAY).press("4").press("3").press("1").press("07911123456#").press("1").press("1")
    assert "We'll call you on Tuesday the 1st of December" in call.heard and "so we won't text that number" in call.heard
    clock.moment = MONDAY_8AM  # the officer picks it up on Monday morning
    [callback] = session.scalars(select(Callback)).all()
    page = f"/staff/callbacks/{callback.id}"
    shown = page_of(client, callback.id)
    assert "keyed in during the call: it may not be their own phone" in shown
    assert "No – the number was keyed in, not the line they called from" in shown

    refused = officer.post(f"{page}/texts-allow", {}, page=page)
    assert refused.status_code == 400 and "Tick the box" in refused.get_data(as_text=True)
    assert officer.post(f"{page}/texts-allow", {"spoke": "y"}, page=page).status_code == 303
    session.expire_all()
    again = session.get(Callback, callback.id)
    assert again.texts_ok and [r.status for r in again.reminders] == ["pending", "pending"]
    assert "texts_allowed" in [e.kind for e in again.events]


def test_a_second_booking_by_hand_for_the_same_number_and_window_shows_the_first(client, officer, session):
    def book_by_hand():
        form = {"region": "cleveland", "phone_number": "07911 123456", "day": "2026-12-01", "window": "morning",
                "voicemail_ok": "yes", "texts_ok": "yes"}
        return officer.post("/staff/callbacks/new", form, page="/staff/callbacks/new")

    first, double_click = book_by_hand(), book_by_hand()
    assert first.status_code == double_click.status_code == 303
    assert first.headers["Location"] == double_click.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Callback)) == 1
    assert session.scalar(select(func.count()).select_from(Reminder)) == 2  # no text twice
    shown = client.get(double_click.headers["Location"]).get_data(as_text=True)
    assert "This number already has a callback at that time" in shown


def test_the_page_says_why_a_callback_gets_no_texts(client, officer, make_callback, twilio):
    landline = make_callback(phone_number=LANDLINE, texts_ok=False)
    assert "No – the number is not a mobile" in page_of(client, landline)
    declined = make_callback(texts_ok=False)
    assert "No – they did not ask for text reminders" in page_of(client, declined)
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "8" * 32, "From": MOBILE, "Body": "STOP"})
    assert "No – this number replied STOP" in page_of(client, declined)
