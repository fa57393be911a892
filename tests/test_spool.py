"""A message left while the database is unreachable is kept on disk and stored once it is back."""

from pathlib import Path

import pytest
from sqlalchemy import select

from ivr import create_app
from ivr.models import Voicemail
from ivr.spool import store_spooled_messages
from scheduler import run_once
from tests.conftest import MOBILE, SATURDAY, Phone, TwilioSigner

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
    from ivr.db.sessions import session_scope

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
