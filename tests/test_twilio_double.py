"""The Twilio double answers the real twilio SDK the way Twilio does."""
import base64
import time
import urllib.error
import urllib.request

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.twilio_double import ACCOUNT_SID, AUTH_TOKEN, TwilioDouble, sdk_client

RE_SID = "RE" + "1" * 32


@pytest.fixture
def client(double):
    return sdk_client(double, ACCOUNT_SID, AUTH_TOKEN, timeout=1)


def send(client, **extra):
    return client.messages.create(to="+447700900123", from_="+441642000000", body="Your call is booked",
                                  status_callback="https://example.org/sms/status", **extra)


def fetch(double, path, auth=(ACCOUNT_SID, AUTH_TOKEN)):
    req = urllib.request.Request(double.base_url + path)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, resp.headers["Content-Type"], resp.read()


def test_create_message(double, client):
    msg = send(client, validity_period=3600)
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (msg.status, msg.to, msg.from_, msg.error_code, msg.num_segments) == \
        ("queued", "+447700900123", "+441642000000", None, "1")
    [seen] = double.messages
    assert seen.method == "POST" and seen.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert seen.form == {"To": "+447700900123", "From": "+441642000000", "Body": "Your call is booked",
                         "StatusCallback": "https://example.org/sms/status", "ValidityPeriod": "3600"}
    assert seen.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert seen.headers["user-agent"].startswith("twilio-python/")


def test_messaging_service_sid_is_accepted(double, client):
    msg = client.messages.create(to="+447700900123", messaging_service_sid="MG" + "2" * 32, body="x")
    assert msg.status == "accepted" and double.messages[0].form["MessagingServiceSid"] == "MG" + "2" * 32


@pytest.mark.parametrize("status, code", [(429, 20429), (400, 21610), (500, None)])
def test_scripted_errors_raise_twilio_rest_exception(double, client, status, code):
    double.queue(status, code=code)
    with pytest.raises(TwilioRestException) as err:
        send(client)
    assert err.value.status == status
    assert err.value.code == (code or 50000)
    assert double.messages == [] and len(double.requests) == 1
    assert send(client).status == "queued"       # the script was used once


def test_script_with_times_none_sticks(double, client):
    double.queue(503, times=None)
    for _ in range(3):
        with pytest.raises(TwilioRestException):
            send(client)


def test_hang_times_out_in_about_the_client_timeout(double, client):
    double.queue("hang")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        send(client)
    assert 0.9 < time.monotonic() - started < 3
    assert len(double.requests) == 1 and double.messages == []


def test_stop_does_not_wait_for_hanging_handlers():
    d = TwilioDouble(hang_seconds=30).start()
    d.queue("hang")
    with pytest.raises(requests.exceptions.Timeout):
        send(sdk_client(d, ACCOUNT_SID, AUTH_TOKEN, timeout=0.3))
    started = time.monotonic()
    d.stop()
    assert time.monotonic() - started < 2


def test_wrong_credentials_get_401(double):
    with pytest.raises(TwilioRestException) as err:
        send(sdk_client(double, ACCOUNT_SID, "wrong-token"))
    assert (err.value.status, err.value.code) == (401, 20003)
    assert double.messages == []


def test_missing_to_is_400_21604(double, client):
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="", from_="+441642000000", body="x")
    assert (err.value.status, err.value.code) == (400, 21604)


def test_fetch_recording_with_basic_auth(double):
    double.add_recording(RE_SID, b"ID3-audio-bytes")
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE_SID}"
    assert fetch(double, path + ".mp3") == (200, "audio/mpeg", b"ID3-audio-bytes")
    assert fetch(double, path + ".wav")[2] == b"ID3-audio-bytes"
    resp = requests.get(double.base_url + path + ".mp3", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert resp.content == b"ID3-audio-bytes"
    for auth, status in ((None, 401), ((ACCOUNT_SID, "nope"), 401)):
        with pytest.raises(urllib.error.HTTPError) as err:
            fetch(double, path + ".mp3", auth)
        assert err.value.code == status
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(double, f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'9' * 32}.mp3")
    assert err.value.code == 404


def test_delete_recording_via_sdk(double, client):
    double.add_recording(RE_SID)
    assert client.recordings(RE_SID).delete() is True
    assert double.deleted_recordings == [RE_SID] and RE_SID not in double.recordings
    assert double.requests[-1].method == "DELETE"
    with pytest.raises(TwilioRestException) as err:
        client.recordings(RE_SID).delete()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_recording_route_can_be_scripted(double, client):
    double.add_recording(RE_SID)
    double.queue(500, route="recordings")
    with pytest.raises(TwilioRestException):
        client.recordings(RE_SID).delete()
    assert RE_SID in double.recordings


def test_client_for_default_base_url_talks_to_twilio_host():
    from ivr.twilio_client import client_for
    c = client_for(None, ACCOUNT_SID, AUTH_TOKEN, 5)
    assert type(c.http_client).__name__ == "TwilioHttpClient" and c.http_client.timeout == 5
