"""Voicemails through the app: the recording is fetched from Twilio (here the local double) with
the account's credentials and streamed; its Twilio URL never reaches the browser."""

import pytest
from sqlalchemy import select

from ivr.models import AuditEvent, Voicemail
from tests.conftest import MOBILE

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
