"""Voicemails through the app: the recording is fetched from Twilio (here the local double) with
the account's credentials and streamed; its Twilio URL never reaches the browser."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr.models import AuditEvent, Callback, Voicemail, VoicemailEvent
from tests.conftest import MOBILE, utc

RECORDING = "RE" + "1" * 32
AUDIO = b"ID3\x03\x00 a message from a caller"


@pytest.fixture
def app_config(app_config, double):
    return app_config | {"TWILIO_API_BASE_URL": double.base_url, "TWILIO_ACCOUNT_SID": double.account_sid,
                         "TWILIO_AUTH_TOKEN": double.auth_token}


@pytest.fixture
def voicemail(session, double) -> int:
    double.add_recording(RECORDING, AUDIO)
    stored = Voicemail(recording_sid=RECORDING, region="cleveland", from_number=MOBILE, duration_seconds=12,
                       recording_url=f"https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/{RECORDING}")
    session.add(stored)
    session.commit()
    return stored.id


@pytest.fixture
def officer(staff_login):
    staff_login.login()
    return staff_login


def test_the_page_plays_through_the_app_and_never_shows_the_twilio_url(client, officer, voicemail):
    page = client.get(f"/staff/voicemails/{voicemail}").get_data(as_text=True)
    assert f'src="/staff/voicemails/{voicemail}/audio"' in page
    assert 'preload="none"' in page  # opening the page is not listening
    assert "twilio.com" not in page and RECORDING not in page


def test_listening_streams_the_recording_and_is_audited_but_changes_nothing(client, officer, voicemail, double,
                                                                           session):
    for _ in range(2):  # a browser may fetch it ahead of time, or again
        response = client.get(f"/staff/voicemails/{voicemail}/audio")
        assert response.status_code == 200
        assert response.content_type == "audio/mpeg"
        assert response.data == AUDIO
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    fetched = [r for r in double.requests if r.path.endswith(f"{RECORDING}.mp3")]
    assert fetched and fetched[0].auth == (double.account_sid, double.auth_token)
    stored = session.get(Voicemail, voicemail)
    assert stored.status == "new" and stored.listened_at is None
    assert "New voicemails (1)" in client.get("/staff/").get_data(as_text=True)
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.record_type == "voicemail",
                                                           AuditEvent.action != "view")).all() == ["play", "play"]


@pytest.mark.parametrize("upstream_type", ["text/html; charset=utf-8", "image/svg+xml", "application/octet-stream"])
def test_the_audio_is_always_served_as_audio_whatever_twilio_says_it_is(client, officer, voicemail, double,
                                                                        upstream_type):
    double.add_recording(RECORDING, b"<script>alert(1)</script>", content_type=upstream_type)
    response = client.get(f"/staff/voicemails/{voicemail}/audio")
    assert response.status_code == 200
    assert response.content_type == "audio/mpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_marking_listened_is_an_explicit_post(client, officer, voicemail, session):
    assert client.get(f"/staff/voicemails/{voicemail}/listened").status_code == 405
    response = officer.post(f"/staff/voicemails/{voicemail}/listened", page=f"/staff/voicemails/{voicemail}")
    assert response.status_code == 303
    session.expire_all()
    stored = session.get(Voicemail, voicemail)
    assert stored.status == "listened" and stored.listened_at is not None


def test_a_recording_twilio_cannot_give_is_a_clear_404(client, officer, voicemail, double):
    double.recordings.clear()
    response = client.get(f"/staff/voicemails/{voicemail}/audio")
    assert response.status_code == 404
    assert "could not be fetched from Twilio" in response.get_data(as_text=True)


def test_mark_listened_and_actioned(client, officer, voicemail, session):
    for status in ("listened", "actioned"):
        response = officer.post(f"/staff/voicemails/{voicemail}/{status}", page=f"/staff/voicemails/{voicemail}")
        assert response.status_code == 303
        session.expire_all()
        assert session.get(Voicemail, voicemail).status == status
    assert "New voicemails (0)" in client.get("/staff/").get_data(as_text=True)


def test_delete_removes_it_on_twilio_and_keeps_the_row(client, officer, voicemail, double, session):
    assert officer.post(f"/staff/voicemails/{voicemail}/delete").status_code == 303
    assert double.deleted_recordings == []  # not without ticking the box
    response = officer.post(f"/staff/voicemails/{voicemail}/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert double.deleted_recordings == [RECORDING]
    stored = session.get(Voicemail, voicemail)
    assert stored.status == "deleted" and stored.recording_deleted_at is not None and stored.recording_url is None
    assert client.get(f"/staff/voicemails/{voicemail}/audio").status_code == 404
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.record_type == "voicemail")).all()
    assert "delete" in actions


def test_a_failed_delete_on_twilio_changes_nothing(client, officer, voicemail, double, session):
    double.queue(500, route="recordings")
    officer.post(f"/staff/voicemails/{voicemail}/delete", {"confirm": "yes"})
    assert session.get(Voicemail, voicemail).status == "new"
    assert "could not delete" in client.get(f"/staff/voicemails/{voicemail}").get_data(as_text=True)


def test_the_list_filters_by_status(client, officer, voicemail):
    assert "07911 123456" in client.get("/staff/voicemails").get_data(as_text=True)
    assert "07911 123456" not in client.get("/staff/voicemails?status=actioned").get_data(as_text=True)
    response = client.get("/staff/voicemails?status=misplaced")
    assert response.status_code == 400 and "There is no status" in response.get_data(as_text=True)


# --- a voicemail is a piece of work: book a callback from it, add notes, see its history ---------


@pytest.fixture
def monday_morning(clock):
    clock.moment = utc(2026, 11, 30, 8)


def booking_from(client, voicemail_id: int, **answers):
    """The officer opens "Book a callback" on the message and books Tuesday morning."""
    form = client.get(f"/staff/callbacks/new?voicemail={voicemail_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    fields = {"csrf_token": token, "region": re.search(r'<option selected value="([^"]*)"', form).group(1),
              "phone_number": html.unescape(re.search(r'id="phone_number"[^>]*value="([^"]*)"', form).group(1)),
              "day": "2026-12-01", "window": "morning", "voicemail_ok": "yes", "texts_ok": "no"} | answers
    return form, client.post(f"/staff/callbacks/new?voicemail={voicemail_id}", data=fields)


def test_a_callback_booked_from_a_voicemail_has_its_number_and_team(monday_morning, client, officer, voicemail,
                                                                     session):
    page = client.get(f"/staff/voicemails/{voicemail}").get_data(as_text=True)
    assert f'href="/staff/callbacks/new?voicemail={voicemail}"' in page

    form, response = booking_from(client, voicemail)
    assert '<option selected value="cleveland">' in form and 'value="07911 123456"' in form
    assert response.status_code == 303
    callback = session.scalars(select(Callback)).one()
    assert (callback.phone_number, callback.region) == (MOBILE, "cleveland")
    assert callback.number_source == "caller"  # the line they rang from, as when they book by phone
    assert response.headers["Location"].endswith(f"/staff/callbacks/{callback.id}")
    session.expire_all()
    assert session.get(Voicemail, voicemail).status == "actioned"
    history = client.get(f"/staff/voicemails/{voicemail}").get_data(as_text=True)
    assert "Callback booked" in history and f'href="/staff/callbacks/{callback.id}"' in history
    assert "officer@example.org" in history.split("History", 1)[1]


def test_a_withheld_number_is_left_for_the_officer_to_give(monday_morning, client, officer, session):
    stored = Voicemail(recording_sid="RE" + "2" * 32, region="durham", from_number=None, duration_seconds=5)
    session.add(stored)
    session.commit()
    form = client.get(f"/staff/callbacks/new?voicemail={stored.id}").get_data(as_text=True)
    assert "a number we cannot call back (withheld or removed)" in form
    assert '<option selected value="durham">' in form and re.search(r'id="phone_number"[^>]*value=""', form)
    _, response = booking_from(client, stored.id, phone_number="01642 123456")
    assert response.status_code == 303
    assert session.scalars(select(Callback.number_source)).one() == "staff"  # the officer gave it


@pytest.mark.parametrize("asked", ["999", "abc", "²"])
def test_booking_from_a_voicemail_that_is_not_there_is_a_404(client, officer, asked):
    assert client.get(f"/staff/callbacks/new?voicemail={asked}").status_code == 404


def test_a_refused_booking_from_a_voicemail_changes_nothing(monday_morning, client, officer, voicemail, session):
    _, response = booking_from(client, voicemail, phone_number="0906 123 4567")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "it costs extra to call" in page
    assert f'action="/staff/callbacks/new?voicemail={voicemail}"' in page  # a second try still books from it
    session.expire_all()
    assert session.get(Voicemail, voicemail).status == "new" and session.scalars(select(Callback)).all() == []


def test_notes_on_a_voicemail_are_its_history(client, officer, voicemail, session):
    response = officer.post(f"/staff/voicemails/{voicemail}/note", {"text": "  Asked for a call after 3pm  "},
                            page=f"/staff/voicemails/{voicemail}")
    assert response.status_code == 303
    history = client.get(f"/staff/voicemails/{voicemail}").get_data(as_text=True).split('id="history-heading"')[1]
    assert "Note" in history and "Asked for a call after 3pm" in history and "officer@example.org" in history
    event = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "voicemail",
                                                     AuditEvent.action == "update")).one()
    assert event.detail == "note added"  # the trail says what was done, never what the note says


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_note_is_a_form_error(client, officer, voicemail, session, text):
    response = officer.post(f"/staff/voicemails/{voicemail}/note", {"text": text}, page=f"/staff/voicemails/{voicemail}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and "Write the note first." in page
    assert session.scalars(select(VoicemailEvent)).all() == []


def test_the_list_goes_page_by_page(client, officer, session):
    session.add_all([Voicemail(recording_sid=f"RE{n:032d}", region="durham", from_number=MOBILE,
                               created_at=utc(2026, 11, 1) + timedelta(hours=n)) for n in range(60)])
    session.commit()
    first = client.get("/staff/voicemails").get_data(as_text=True)
    assert "60 messages, oldest first." in first and "Showing 1 to 50 of 60 voicemails" in first
    second = client.get("/staff/voicemails?page=2").get_data(as_text=True)
    assert "Showing 51 to 60 of 60 voicemails" in second
    assert client.get("/staff/voicemails?page=zero").status_code == 400
