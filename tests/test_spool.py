"""A message or a text left while the database is unreachable is kept on disk and stored once it is back;
one that can never be stored is set aside, and the others are stored all the same."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr import create_app
from ivr.db.sessions import session_scope
from ivr.models import InboundText, OptOut, Voicemail
from ivr.spool import keep_message, keep_text, store_spooled_messages
from scheduler import run_once
from tests.conftest import MOBILE, SATURDAY, Phone, TwilioSigner, on_postgres

UNREACHABLE = {
    "sqlite": "sqlite:///{tmp}/no/such/folder/ivr.sqlite3",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test",  # nothing listens on port 1
}


@pytest.fixture(params=sorted(UNREACHABLE))
def outage(request, app_config, tmp_path):
    """An app whose database does not answer, and the same service once the database is back."""
    down = create_app({**app_config, "DATABASE_URL": UNREACHABLE[request.param].format(tmp=tmp_path)})
    back = create_app(app_config)
    yield down, back
    for app in (down, back):
        app.extensions["db.engine"].dispose()


def leave_message_during_outage(down, clock) -> Phone:
    phone = Phone(TwilioSigner(down.test_client()), clock)
    call = phone.ring(from_number=MOBILE, at=SATURDAY)
    assert "Sorry, something's gone wrong on our side." in call.heard
    call.record(25)
    assert "We've got your message." in call.heard and call.ended
    return phone


def voicemails(app) -> list[Voicemail]:
    with session_scope(app) as session:
        return list(session.scalars(select(Voicemail)))


def test_the_message_waits_in_the_spool_until_the_clock_finds_the_database(outage, clock):
    down, back = outage
    phone = leave_message_during_outage(down, clock)
    phone.replay_last()  # Twilio retrying the step keeps one copy
    clock.stop()
    spooled = list(Path(down.config["SPOOL_DIR"]).glob("*.json"))
    assert len(spooled) == 1

    health = down.test_client().get("/healthz")
    assert (health.status_code, health.json["spooled_messages"]) == (503, 1)
    assert store_spooled_messages(down) == 0  # still down: the message waits
    assert spooled[0].exists()

    assert run_once(back)["spooled_messages_stored"] == 1
    kept = voicemails(back)
    assert [(v.region, v.from_number, v.duration_seconds, v.status) for v in kept] == [("vcas", MOBILE, 25, "new")]
    assert not spooled[0].exists()
    assert back.test_client().get("/healthz").json["spooled_messages"] == 0
    run_once(back)
    assert len(voicemails(back)) == 1


def test_the_health_check_only_reads(outage, clock):
    down, back = outage
    leave_message_during_outage(down, clock)
    assert back.test_client().get("/healthz").json == {"status": "ok", "database": "ok", "spooled_messages": 1}
    assert voicemails(back) == []


def test_an_unreadable_spool_entry_does_not_stop_the_clock_or_the_health_check(app, client):
    folder = Path(app.config["SPOOL_DIR"])
    folder.mkdir(parents=True)
    (folder / "RE123.json").write_text("{not json")
    assert run_once(app).get("spooled_messages_stored", 0) == 0
    assert client.get("/healthz").status_code == 200


# --- texts ------------------------------------------------------------------------------------------

def text_during_outage(down, message_sid: str, body: str):
    return TwilioSigner(down.test_client()).post("/sms/incoming", {"MessageSid": message_sid, "From": MOBILE,
                                                                   "Body": body})


def test_a_text_sent_while_the_database_is_unreachable_is_kept_and_acted_on_once_it_is_back(outage, clock):
    down, back = outage
    clock.moment = SATURDAY
    stop, words = "SM" + "1" * 32, "SM" + "2" * 32
    for sid, body in ((stop, "STOP"), (words, "Please ring after 6, he's home before then"), (stop, "STOP")):
        answer = text_during_outage(down, sid, body)  # the last: Twilio delivering the STOP again
        assert answer.status_code == 200 and answer.data.endswith(b"<Response />")  # kept; no answer now
    assert down.test_client().get("/healthz").json["spooled_messages"] == 2

    assert run_once(back)["spooled_messages_stored"] == 2
    with session_scope(back) as session:
        kept = {t.message_sid: t for t in session.scalars(select(InboundText))}
        assert set(kept) == {stop, words} and kept[words].body.startswith("Please ring after 6")
        assert all(t.received_at == SATURDAY and t.from_number == MOBILE for t in kept.values())
        assert session.get(OptOut, MOBILE) is not None  # the STOP took effect
    assert run_once(back).get("spooled_messages_stored", 0) == 0


# --- a file that can never be stored -------------------------------------------------------------

NEVER_STORABLE = {
    "not JSON": "{not json",
    "a field missing": json.dumps({"kind": "text", "message_sid": "SM" + "5" * 32}),
    "a time that is not one": json.dumps({"kind": "text", "message_sid": "SM" + "5" * 32, "from_number": MOBILE,
                                          "body": "YES", "now": "yesterday"}),
    # PostgreSQL refuses a NUL byte in text (SQLite keeps it, so the message is simply stored).
    "a NUL byte": json.dumps({"kind": "voicemail", "recording_sid": "RE" + "5" * 32, "recording_url": None,
                              "duration": 5, "region": "vcas\x00", "call_sid": None, "from_number": MOBILE,
                              "now": SATURDAY.isoformat()}),
}


@pytest.mark.parametrize("fault", sorted(NEVER_STORABLE))
def test_a_file_that_can_never_be_stored_is_set_aside_and_does_not_hold_up_the_others(app, client, caplog, fault):
    if fault == "a NUL byte" and not on_postgres():
        pytest.skip("SQLite stores a NUL byte")
    keep_message(app, recording_sid="RE" + "1" * 32, recording_url=None, duration=12, region="vcas", call_sid=None,
                 from_number=MOBILE, now=SATURDAY)
    bad = Path(app.config["SPOOL_DIR"]) / f"{'RE' if 'NUL' in fault else 'SM'}{'5' * 32}.json"
    bad.write_text(NEVER_STORABLE[fault])
    keep_text(app, message_sid="SM" + "9" * 32, from_number=MOBILE, body="YES", now=SATURDAY)

    assert run_once(app)["spooled_messages_stored"] == 2  # the files before and after it
    assert [v.recording_sid for v in voicemails(app)] == ["RE" + "1" * 32]
    assert not bad.exists() and (bad.parent / "set-aside" / bad.name).read_text() == NEVER_STORABLE[fault]
    [error] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert bad.name in error.getMessage() and "set aside" in error.getMessage()
    assert client.get("/healthz").json["spooled_messages"] == 0
    assert run_once(app).get("spooled_messages_stored", 0) == 0  # and it is not tried again
