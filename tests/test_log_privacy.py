"""Logs: one JSON object a line in production, readable lines in development, and nothing personal
in them, whatever happens — no full phone number, no text's words, no recording's address, no name.

Whole scenarios run (calls, texts through the real twilio SDK to the local double and simulated
ones, replies, delivery reports, staff work, retention, database faults) while every record is
captured at DEBUG from the root logger; then each record, as any handler would write it, is scanned.
"""

from __future__ import annotations

import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from datetime import datetime, timedelta

import phonenumbers
import pytest
from sqlalchemy import event, select

from ivr import create_app
from ivr.db.sessions import session_scope
from ivr.logs import JsonFormatter
from ivr.models import Callback, InboundText, Reminder, Voicemail
from ivr.phone import mask
from scheduler import run_once
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    LANDLINE,
    MOBILE,
    SATURDAY,
    Phone,
    TwilioSigner,
    at_london,
    on_postgres,
)

CALLER = MOBILE  # rings from their mobile and books a callback with texts
KEYED = "+447911124321"  # keyed in by a caller who withheld their number
MESSAGE_LEFT_FROM = LANDLINE  # leaves a voicemail
TEXTER = "+447911000222"  # texts the helpline with no callback booked
CALLER_IN_OUTAGE = "+447911123789"  # rings and texts while the database is in trouble
NAME = "Sarah Jones"
FREE_TEXT = f"This is {NAME}, please call me after 3pm"

TEXT_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
JSON_FORMAT = JsonFormatter()


def written_forms(e164: str) -> set[str]:
    """The ways a full number may be written: +447911123456, 447911123456, 07911 123456, 7911123456..."""
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return {e164, e164[1:], national, national.replace(" ", ""), international,
            phonenumbers.national_significant_number(number)}


def as_written(record: logging.LogRecord) -> str:
    """The record as either of our handlers' formats would write it, exception text included."""
    return TEXT_FORMAT.format(record) + "\n" + JSON_FORMAT.format(record)


def assert_nothing_personal(records: list[logging.LogRecord], personal: dict[str, str]) -> None:
    """No record holds any of `personal` (what it is -> the text that must not appear)."""
    assert records, "the scenario should have logged something"
    found = [f"{what} in {record.name}'s record: ...{line[max(where - 200, 0):where + 100]}..."
             for record in records for line in [as_written(record)]
             for what, secret in personal.items() if (where := line.find(secret)) != -1]
    assert not found, "personal data in the logs:\n" + "\n".join(found)


def numbers(*e164: str) -> dict[str, str]:
    return {f"the number {number} written {form!r}": form for number in e164 for form in written_forms(number)}


@pytest.fixture
def app_config(app_config, double):
    # Not TESTING: an unexpected error is logged with its traceback, as in production.
    return app_config | {"TESTING": False, "TWILIO_API_BASE_URL": double.base_url, "TWILIO_HTTP_TIMEOUT": 2.0}


@pytest.fixture
def simulated(app_config):
    """The same service without a Twilio account: texts are recorded as simulated, not sent."""
    app = create_app(app_config | {"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None})
    yield app
    app.extensions["db.engine"].dispose()


@pytest.fixture
def captured(caplog, app, simulated):
    """Every record from every logger at DEBUG (after the apps exist: the factory sets the level)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def test_the_twilio_sdks_own_request_logging_is_quietened_even_at_debug(captured):
    # The SDK logs each request's URL, parameters and headers; urllib3 beneath it each URL.
    for name in ("twilio.http_client", "urllib3.connectionpool"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert logging.getLogger("ivr").isEnabledFor(logging.DEBUG)


def test_a_week_of_calls_texts_and_staff_work_logs_nothing_personal(app, simulated, captured, phone, twilio,
                                                                   staff_login, double, session, clock):
    # Saturday: two callers book from their own mobiles; a third leaves a message.
    booking = phone.ring(CALLER, at=SATURDAY).press("4").press("1").press("1").press("1").press("1").press("1")
    assert "We'll call the number ending four five six." in booking.heard
    keyed = phone.ring(KEYED, at=SATURDAY).press("4").press("1").press("2").press("1").press("2").press("1")
    assert "We'll call the number ending three two one." in keyed.heard
    message = phone.ring(MESSAGE_LEFT_FROM, at=SATURDAY).press("3").press("1").press("1").record(30)
    assert "We've got your message." in message.heard
    recording = message.recorded[0]
    double.add_recording(recording["RecordingSid"])

    # Sunday 11am: the day-before reminders go through the real SDK to Twilio (the double).
    clock.moment = at_london(2026, 11, 29, 11, 0, 30)
    assert run_once(app)["sent"] == 2
    texted = {m.form["To"]: m.form["Body"] for m in double.messages}
    assert set(texted) == {CALLER, KEYED}
    sids = dict(session.execute(select(Reminder.to_number, Reminder.message_sid)
                                .where(Reminder.message_sid.is_not(None))).all())

    # Twilio reports: one delivered; the other's phone was unreachable (tried once more later).
    clock.moment = at_london(2026, 11, 29, 11, 5)
    for number, status, error in ((CALLER, "sent", ""), (CALLER, "delivered", ""), (KEYED, "undelivered", "30003")):
        report = {"MessageSid": sids[number], "MessageStatus": status, "ErrorCode": error, "To": number}
        assert twilio.post("/sms/status", report).status_code == 204

    # Replies, and the words we text back.
    def text_in(sender: str, body: str) -> list[str]:
        answer = twilio.post("/sms/incoming", {"MessageSid": f"SM{len(inbound):032d}", "From": sender, "Body": body})
        inbound.append(body)
        assert answer.status_code == 200
        return [message.text for message in ET.fromstring(answer.get_data(as_text=True)).iter("Message")]

    inbound: list[str] = []
    clock.moment = at_london(2026, 11, 29, 12)
    replies = text_in(CALLER, "Yes.") + text_in(TEXTER, FREE_TEXT) + text_in(TEXTER, "HELP")
    assert len(replies) == 2  # thanks for the YES, and the help

    # Monday 8am, on a server without a Twilio account: the hour-before and the retry are simulated.
    clock.moment = at_london(2026, 11, 30, 8, 0, 30)
    assert run_once(simulated)["simulated"] == 2
    assert text_in(KEYED, "CHANGE") and not text_in(KEYED, "STOP")
    session.expire_all()
    simulated_bodies = session.scalars(select(Reminder.body).where(Reminder.simulated)).all()
    assert len(simulated_bodies) == 2

    # Monday 9.30am: an officer works the queue: the callback, a note, the call made; the voicemail.
    [callback_id] = session.scalars(select(Callback.id).where(Callback.phone_number == CALLER)).all()
    [voicemail_id] = session.scalars(select(Voicemail.id)).all()
    clock.moment = at_london(2026, 11, 30, 9, 30)
    officer = staff_login
    assert officer.login().status_code == 302
    page = f"/staff/callbacks/{callback_id}"
    assert "07911 123456" in officer.client.get("/staff/").get_data(as_text=True)
    assert officer.client.get(page).status_code == 200
    for path, form in (("note", {"text": f"{NAME} asked us to ring after 10"}),
                       ("attempt", {"outcome": "spoke", "detail": f"Spoke to {NAME}"}),
                       ("complete", {})):
        assert officer.post(f"{page}/{path}", form, page=page).status_code == 303
    assert officer.client.get(f"/staff/voicemails/{voicemail_id}/audio").status_code == 200
    officer.logout()

    # A hundred days on, the nightly retention run deletes the recording and anonymises the callback.
    clock.moment = at_london(2027, 3, 10, 3)
    summary = run_once(app)
    assert summary["retention_recordings_deleted"] == 1 and summary["retention_callbacks_anonymised"] == 1
    assert double.deleted_recordings == [recording["RecordingSid"]]

    logged = "\n".join(record.getMessage() for record in captured.records)
    for expected in ("booked", "voicemail", "day_before reminder", "simulated text to", "retention"):
        assert expected in logged  # the scan below looks at real lines about each step
    assert "*********456" in logged  # numbers appear masked

    personal = numbers(CALLER, KEYED, MESSAGE_LEFT_FROM, TEXTER)
    personal |= {f"the text sent to {to}": body for to, body in texted.items()}
    personal |= {f"a simulated text ({n})": body for n, body in enumerate(simulated_bodies)}
    personal |= {f"a reply we sent ({n})": words for n, words in enumerate(replies)}
    personal |= {"the recording's URL": recording["RecordingUrl"],
                 "a URL naming the recording": f"Recordings/{recording['RecordingSid']}",
                 "the name": NAME, "the first name": NAME.split()[0], "the surname": NAME.split()[1],
                 "the free text": FREE_TEXT}
    assert_nothing_personal(captured.records, personal)


UNREACHABLE = {False: "sqlite:///{tmp}/no/such/folder/ivr.sqlite3",
               True: "postgresql+psycopg://postgres@127.0.0.1:1/test"}  # nothing listens on port 1


def refuse_writes(engine) -> None:
    """Every connection reads but may not write, as on a read-only replica or a full disk."""

    @event.listens_for(engine, "connect")
    def read_only(dbapi_connection, _record):
        if engine.dialect.name == "postgresql":
            dbapi_connection.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        else:
            dbapi_connection.execute("PRAGMA query_only = ON")


@pytest.fixture
def faulty(app_config, tmp_path):
    """The service while its database does not answer, and while it answers but refuses writes."""
    apps = {"down": create_app(app_config | {"DATABASE_URL": UNREACHABLE[on_postgres()].format(tmp=tmp_path)}),
            "read_only": create_app(app_config)}
    refuse_writes(apps["read_only"].extensions["db.engine"])
    yield apps
    for app in apps.values():
        app.extensions["db.engine"].dispose()


def test_database_faults_still_help_the_caller_and_log_nothing_personal(app, faulty, captured, clock):
    messages = []
    for fault, broken in faulty.items():
        caller = Phone(TwilioSigner(broken.test_client()), clock)
        call = caller.ring(CALLER_IN_OUTAGE, at=SATURDAY)
        assert "Sorry, something's gone wrong on our side." in call.heard, fault
        call.record(20)
        assert "We've got your message." in call.heard, fault
        messages += call.recorded
        text = caller.twilio.post("/sms/incoming", {"MessageSid": "SM" + fault[0] * 32, "From": CALLER_IN_OUTAGE,
                                                    "Body": FREE_TEXT})
        assert text.status_code == 200, fault  # kept in the spool, as the messages are
        assert broken.test_client().get("/healthz").status_code == (503 if fault == "down" else 200)
    # The database is back: the clock stores the spool, two messages and two texts.
    assert run_once(app)["spooled_messages_stored"] == 4
    with session_scope(app) as session:
        assert len(session.scalars(select(Voicemail)).all()) == 2
        assert len(session.scalars(select(InboundText)).all()) == 2

    logged = "\n".join(as_written(record) for record in captured.records)
    assert "could not be stored now: OperationalError" in logged  # the fault is logged, by its kind
    assert "kept in the spool" in logged
    personal = numbers(CALLER_IN_OUTAGE) | {"the name": NAME, "the free text": FREE_TEXT}
    for n, recorded in enumerate(messages):
        personal |= {f"recording {n}'s URL": recorded["RecordingUrl"],
                     f"a URL naming recording {n}": f"Recordings/{recorded['RecordingSid']}"}
    assert_nothing_personal(captured.records, personal)


@contextmanager
def service_log():
    """What the service's own log handler writes, while the block runs."""
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_ivr", False)]
    written, formatter = io.StringIO(), handler.formatter
    stream = handler.setStream(written)
    try:
        yield written
    finally:
        handler.setStream(stream)
        handler.setFormatter(formatter)


def call_and_fail(app, clock) -> None:
    """A call (logged with its masked number), then an error whose traceback is logged."""
    Phone(TwilioSigner(app.test_client()), clock).ring(CALLER, at=SATURDAY)
    try:
        raise RuntimeError("first line\nsecond line")
    except RuntimeError:
        logging.getLogger("ivr.test").exception("something failed")


def test_in_production_each_line_is_one_json_object(app_config, clock):
    production = create_app(app_config | {"IVR_ENV": "production", "LOG_FORMAT": None})
    with service_log() as written:
        call_and_fail(production, clock)
    production.extensions["db.engine"].dispose()

    entries = [json.loads(line) for line in written.getvalue().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert all(datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0) for entry in entries)
    call = next(e for e in entries if e["logger"] == "ivr.voice.routes")
    assert call["level"] == "INFO" and call["message"].endswith(" from " + mask(CALLER))
    failure = entries[-1]
    assert (failure["level"], failure["message"]) == ("ERROR", "something failed")
    assert "Traceback" in failure["exception"] and "second line" in failure["exception"]


def test_in_development_lines_are_readable(app_config, clock):
    development = create_app(app_config | {"LOG_FORMAT": None})
    with service_log() as written:
        call_and_fail(development, clock)
    development.extensions["db.engine"].dispose()

    lines = written.getvalue().splitlines()
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ivr.voice.routes: call CA\w+ from "
                            + re.escape(mask(CALLER)), line) for line in lines), lines
    assert not any(line.startswith("{") for line in lines)
    assert "Traceback (most recent call last):" in lines
