"""`flask --app ivr call --outbound CALLBACK_ID`: with no Twilio account, "Call now" is simulated and
the terminal phone plays both ends of the call: the officer's phone, then the victim's."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from ivr.models import CallAttempt, StaffUser
from tests.conftest import MONDAY_MORNING


@pytest.fixture
def app_config(app_config):
    return app_config | {"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None}


@pytest.fixture
def officer(staff_login, clock, session):
    clock.moment = MONDAY_MORNING
    staff_login.login()
    staff_login.post("/staff/work-number", {"work_number": "01642 123456"}, page="/staff/work-number")
    return staff_login


def test_both_ends_of_a_call_now_pressed_offline(client, officer, make_callback, runner, session):
    callback_id = make_callback()
    pressed = officer.post(f"/staff/callbacks/{callback_id}/call", {}, page=f"/staff/callbacks/{callback_id}",
                           follow_redirects=True)
    assert f"flask --app ivr call --outbound {callback_id}" in html.unescape(pressed.get_data(as_text=True))
    result = runner.invoke(args=["call", "--outbound", str(callback_id), "--keys", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "officer: presses 1" in lines and "    victim: presses 1" in lines
    assert "    » VCAS: Hello, this is the call you arranged." in lines
    assert "  (connected: they talk)" in lines
    (attempt,) = session.scalars(select(CallAttempt))
    assert attempt.simulated and attempt.result == "agreed" and attempt.ended_at is not None
    page = html.unescape(client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True))
    assert "Called through the service (simulated): Answered: a good time to talk" in page


def test_it_places_the_call_itself_and_the_victim_may_say_not_now(officer, make_callback, runner, session):
    callback_id = make_callback()
    result = runner.invoke(args=["call", "--outbound", str(callback_id), "--keys", "2,-"])
    assert result.exit_code == 0, result.output
    assert "They said it isn't a good time to talk." in result.output
    assert session.scalars(select(CallAttempt.result)).one() == "not_good_time"


def test_it_refuses_what_call_now_refuses(officer, make_callback, runner, session):
    callback_id = make_callback(day=None)
    officer.post(f"/staff/callbacks/{callback_id}/cancel", {}, page=f"/staff/callbacks/{callback_id}")
    result = runner.invoke(args=["call", "--outbound", str(callback_id), "--keys", "1"])
    assert result.exit_code != 0 and "Not called: This callback is cancelled" in result.output
    session.get(StaffUser, 1).work_number = None
    session.commit()
    other = make_callback()
    result = runner.invoke(args=["call", "--outbound", str(other), "--keys", "1"])
    assert "Say which officer places the call" in result.output
