"""Input no honest Twilio request or browser sends: digits that str.isdigit() accepts and int()
refuses ("²"), values far too long, NUL bytes, ids no record can have, bodies too large. Each gets
the usual spoken retry, a 400 with the reason, or a 404; never a 500, and a caller's message is
never lost to one of them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from ivr.models import Call, InboundText, Voicemail
from ivr.walker import parse_twiml
from tests.conftest import MOBILE, SATURDAY

SID = "CA" + "1" * 32
MAIN_MENU = "To arrange a callback at a time that suits you, press 4."
NOT_A_CHOICE, NOTHING_HEARD = "Sorry, that isn't one of the choices.", "Sorry, I didn't hear anything."


def stored(session, model) -> list:
    session.commit()
    session.expire_all()
    return list(session.scalars(select(model)))


def spoken(response) -> str:
    assert response.status_code == 200 and response.mimetype == "text/xml", response.data[:300]
    verbs = parse_twiml(response.get_data(as_text=True), "/")
    return " ".join(element.text for verb in verbs for element in verb.iter() if element.text)


# --- the phone line: the usual spoken retry ---------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "hears"), [
    ("/voice/main", {"Digits": "²"}, NOT_A_CHOICE),
    ("/voice/main", {"Digits": "1\x00"}, NOTHING_HEARD),
    ("/voice/main", {"SpeechResult": "one\x00"}, NOTHING_HEARD),
    ("/voice/main?miss=%C2%B2", {}, NOTHING_HEARD),  # ?miss=²
    ("/voice/main?miss=" + "9" * 5_000, {}, NOTHING_HEARD),
    ("/voice/region", {"Digits": "³"}, NOT_A_CHOICE),
])
def test_digits_int_refuses_and_nul_bytes_get_the_usual_retry(clock, twilio, path, params, hears):
    clock.moment = SATURDAY
    assert hears in spoken(twilio.post(path, params | {"CallSid": SID, "From": MOBILE}))


@pytest.mark.parametrize("params", [
    {"CallSid": SID + "\x00", "From": MOBILE},
    {"CallSid": "CA" + "1" * 5_000, "From": MOBILE},
    {"CallSid": SID, "From": MOBILE + "\x00"},
    {"CallSid": SID, "From": "+44" + "7" * 10_000},
])
def test_a_call_with_a_hostile_sid_or_number_is_welcomed_and_nothing_odd_is_stored(twilio, session, params):
    assert MAIN_MENU in spoken(twilio.post("/voice/incoming", params))
    assert [(c.call_sid, c.from_number) for c in stored(session, Call)] in ([], [(SID, None)])


@pytest.mark.parametrize("hostile", [
    {"RecordingDuration": "²"},
    {"RecordingDuration": "9" * 5_000},
    {"RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1\x00"},
    {"RecordingUrl": "https://" + "x" * 10_000},
    {"From": "\x00"},
    {"From": "+44" + "7" * 10_000},
    {"CallSid": "CA" + "\x00" * 32},
])
def test_a_message_is_never_lost_to_a_hostile_field(twilio, session, hostile):
    recording = "RE" + "4" * 32
    params = {"CallSid": SID, "From": MOBILE, "RecordingSid": recording, "RecordingDuration": "31",
              "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{recording}"} | hostile
    assert "We've got your message." in spoken(twilio.post("/voice/message?region=vcas", params))
    [voicemail] = stored(session, Voicemail)
    assert voicemail.recording_sid == recording and voicemail.region == "vcas"
    assert voicemail.duration_seconds == (31 if "RecordingDuration" not in hostile else 0)


def test_a_status_with_a_duration_int_refuses_is_still_recorded(twilio, session):
    twilio.post("/voice/status", {"CallSid": SID, "From": MOBILE, "CallStatus": "completed", "CallDuration": "²"})
    [call] = stored(session, Call)
    assert (call.status, call.duration_seconds) == ("completed", None)


# --- texts: 400 with the reason -------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "reason"), [
    ("/sms/incoming", {"MessageSid": "SM" + "1" * 32, "From": "+44" + "7" * 1_000, "Body": "YES"}, "From is"),
    ("/sms/incoming", {"MessageSid": "SM" + "1" * 32, "From": MOBILE + "\x00", "Body": "YES"}, "From is"),
    ("/sms/incoming", {"MessageSid": "SM" + "1" * 1_000, "From": MOBILE, "Body": "YES"}, "MessageSid is"),
    ("/sms/incoming", {"MessageSid": "SM\x00" + "1" * 30, "From": MOBILE, "Body": "YES"}, "MessageSid is"),
    ("/sms/status", {"MessageSid": "SM" + "1" * 1_000, "MessageStatus": "sent"}, "MessageSid is"),
    ("/sms/status", {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": "²"}, "ErrorCode is not"),
    ("/sms/status", {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": "3" * 5_000},
     "ErrorCode is not"),
])
def test_a_hostile_text_webhook_is_refused_with_the_reason(twilio, session, path, params, reason):
    response = twilio.post(path, params)
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    assert stored(session, InboundText) == []


def test_a_text_with_a_nul_byte_is_kept_with_its_words(twilio, session):
    response = twilio.post("/sms/incoming", {"MessageSid": "SM" + "1" * 32, "From": MOBILE,
                                             "Body": "can you ring\x00 after 6"})
    assert response.status_code == 200
    assert [t.body for t in stored(session, InboundText)] == ["can you ring\ufffd after 6"]


# --- bodies too large: 413 ------------------------------------------------------------------------


def test_a_body_larger_than_max_content_length_is_not_read(app, twilio, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 65536
    huge = {"MessageSid": "SM" + "1" * 32, "From": MOBILE, "Body": "x" * 70_000}
    assert twilio.post("/sms/incoming", huge).status_code == 413
    assert client.post("/staff/sign-in", data={"email": "x" * 70_000}).status_code == 413
    # The phone line still answers with help: a caller is never left with an error page.
    assert "Sorry, something's gone wrong on our side." in spoken(twilio.post("/voice/main", {"Digits": "1" * 70_000}))


# --- staff pages: 404 -----------------------------------------------------------------------------


def test_an_id_no_record_can_have_is_not_found_on_every_staff_page(app, staff_login):
    staff_login.login(role="admin")
    huge = 99999999999999999999
    with_ids = [rule for rule in app.url_map.iter_rules()
                if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values())]
    assert len(with_ids) >= 10
    for rule in with_ids:
        values = {name: huge if isinstance(converter, IntegerConverter) else sorted(converter.items)[0]
                  for name, converter in rule._converters.items()}  # an id, or the first of any(...)
        path = rule.build(values, append_unknown=False)[1]
        response = (staff_login.client.get(path) if "GET" in rule.methods else staff_login.post(path))
        assert response.status_code == 404, (path, response.status_code)


@pytest.mark.parametrize("query", ["record_id=²", "record_id=99999999999999999999", "before=²",
                                   "before=99999999999999999999"])
def test_the_audit_page_refuses_or_ignores_numbers_int_refuses(staff_login, query):
    staff_login.login(role="admin")
    assert staff_login.client.get(f"/staff/admin/audit?{query}").status_code in (200, 400)
