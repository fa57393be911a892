"""Calls as Twilio reports them (ivr/calls.py): however Twilio's status callbacks are ordered."""

import pytest
from sqlalchemy import select

from ivr.models import Call
from tests.conftest import MOBILE

SID = "CA" + "7" * 32


def report(twilio, status: str, duration: str | None = None):
    params = {"CallSid": SID, "From": MOBILE, "CallStatus": status} | ({"CallDuration": duration} if duration else {})
    assert twilio.post("/voice/status", params).status_code == 200


def the_call(session) -> Call:
    session.commit()
    session.expire_all()
    return session.scalars(select(Call).where(Call.call_sid == SID)).one()


@pytest.mark.parametrize("ended", ["completed", "busy", "no-answer", "failed", "canceled"])
@pytest.mark.parametrize("late", ["in-progress", "ringing", "queued"])
def test_a_late_earlier_status_never_reopens_an_ended_call(twilio, session, ended, late):
    report(twilio, "ringing")
    report(twilio, ended, "95")
    ended_at = the_call(session).ended_at
    report(twilio, late)  # delivered after the end, as Twilio's callbacks sometimes are
    call = the_call(session)
    assert (call.status, call.duration_seconds, call.ended_at) == (ended, 95, ended_at)


def test_a_call_moves_forward_through_its_statuses(twilio, session):
    report(twilio, "ringing")
    assert the_call(session).status == "ringing"
    report(twilio, "in-progress")
    assert (the_call(session).status, the_call(session).ended_at) == ("in-progress", None)
    report(twilio, "completed", "40")
    assert the_call(session).status == "completed" and the_call(session).ended_at is not None
