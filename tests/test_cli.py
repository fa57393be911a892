"""Administrators manage closure days and the emergency switch from the command line."""

from datetime import date

import pytest

from ivr import closures
from ivr.helpline import load_helpline
from tests.conftest import MOBILE, at_london, utc


def test_closures_add_list_remove(runner, app, session):
    assert runner.invoke(args=["closures", "add", "2099-12-24", "--reason", "staff training"]).exit_code == 0
    listed = runner.invoke(args=["closures", "list"]).output
    assert "2099-12-24" in listed and "staff training" in listed and "Closed now: off" in listed
    result = runner.invoke(args=["closures", "remove", "2099-12-24"])
    assert result.exit_code == 0 and "Open again" in result.output
    assert "No closures ahead" in runner.invoke(args=["closures", "list"]).output


def test_a_closure_closes_the_office_the_app_consults(runner, app, session, clock):
    clock.moment = utc(2026, 11, 30, 10)
    runner.invoke(args=["closures", "add", "2026-12-01"])
    hours = closures.office_hours(session, app.extensions["helpline"], now=utc(2026, 12, 1, 11))
    assert not hours.is_open(utc(2026, 12, 1, 11))
    assert hours.is_open(utc(2026, 12, 2, 11))


def test_closed_now_switch(runner, app, session):
    assert "ON" in runner.invoke(args=["closures", "closed-now", "on"]).output
    helpline = app.extensions["helpline"]
    assert not closures.office_hours(session, helpline, now=utc(2026, 12, 2, 11)).is_open(utc(2026, 12, 2, 11))
    runner.invoke(args=["closures", "closed-now", "off"])
    session.expire_all()
    assert closures.office_hours(session, helpline, now=utc(2026, 12, 2, 11)).is_open(utc(2026, 12, 2, 11))


def test_closed_now_until_a_london_time_tells_callers_and_ends_by_itself(runner, phone):
    with phone.clock.at(at_london(2026, 12, 3, 10, 0)):
        result = runner.invoke(args=["closures", "closed-now", "on", "--until", "2026-12-03 14:00"])
        assert result.exit_code == 0, result.output
        assert result.output == ("Closed now: ON until Thursday 3 December 2026 14:00. Callers hear the closed menu, "
                                 "and that we open again Thursday 3 December 2026 14:00.\n")
    call = phone.ring(MOBILE, at=at_london(2026, 12, 3, 11, 0)).press("3").press("1")
    assert call.dialled == [] and "We open again today at 2pm." in call.heard
    assert phone.ring(MOBILE, at=at_london(2026, 12, 3, 14, 0)).press("3").press("1").dialled == ["+443302234312"]
    assert "Closed now: off." in runner.invoke(args=["closures", "list"]).output


def test_closed_now_until_a_time_out_of_hours_says_the_opening_after_it(runner, clock):
    clock.moment = at_london(2026, 12, 4, 15, 0)  # a Friday
    result = runner.invoke(args=["closures", "closed-now", "on", "--until", "2026-12-04 18:00"])
    assert "we open again Monday 7 December 2026 09:00." in result.output
    assert "until Friday 4 December 2026 18:00" in runner.invoke(args=["closures", "list"]).output


def test_closed_now_without_a_time_promises_none(runner, clock):
    clock.moment = at_london(2026, 12, 3, 10, 0)
    result = runner.invoke(args=["closures", "closed-now", "on"])
    assert result.output == ("Closed now: ON until switched off. Callers hear the closed menu, "
                             "and nothing about when we open again.\n")


def test_the_reopening_time_is_london_time_across_the_clocks_changing(runner, app, session, clock):
    clock.moment = at_london(2026, 3, 27, 12, 0)  # GMT; the clocks go forward on Sunday
    assert runner.invoke(args=["closures", "closed-now", "on", "--until", "2026-03-30 10:00"]).exit_code == 0
    hours = closures.office_hours(session, app.extensions["helpline"], now=clock.moment)
    assert hours.closed_now_until == utc(2026, 3, 30, 9)  # 10:00 BST
    assert hours.next_opening(clock.moment) == utc(2026, 3, 30, 9)


@pytest.mark.parametrize(("args", "says"), [
    (["on", "--until", "2026-12-03 09:59"],
     "Thursday 3 December 2026 09:59 has already passed (it is Thursday 3 December 2026 10:00 in London)"),
    (["on", "--until", "3pm tomorrow"], "write it as 'YYYY-MM-DD HH:MM', e.g. '2026-12-03 14:00'"),
    (["off", "--until", "2026-12-03 14:00"], "--until goes with 'on'"),
])
def test_a_reopening_time_that_cannot_be_gets_a_clear_answer_and_changes_nothing(runner, app, session, clock,
                                                                                 args, says):
    clock.moment = at_london(2026, 12, 3, 10, 0)
    result = runner.invoke(args=["closures", "closed-now", *args])
    assert result.exit_code != 0 and says in result.output
    assert closures.office_hours(session, app.extensions["helpline"], clock.moment).is_open(clock.moment)


def test_bad_dates_get_a_clear_answer_and_change_nothing(runner, session):
    result = runner.invoke(args=["closures", "add", "24/12/2026"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    result = runner.invoke(args=["closures", "remove", "2099-01-05"])
    assert result.exit_code != 0 and "was not a closure date" in result.output
    assert closures.list_closures(session, since=date(2000, 1, 1)) == []


class Ticks:
    """A web worker's monotonic clock, moved by the test."""

    seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def test_closed_now_switched_on_from_the_command_line_reaches_callers_within_the_cache_time(app_config, phone, runner):
    """An emergency switch reaches every caller within OFFICE_HOURS_CACHE_SECONDS, however busy
    the web worker is; until then a caller may still be put through."""
    from ivr import create_app
    from tests.conftest import MOBILE, MONDAY_MORNING, TwilioSigner

    worker = create_app(app_config | {"OFFICE_HOURS_CACHE_SECONDS": 5})
    ticks = worker.extensions["office_hours"].clock = Ticks()
    phone.twilio = TwilioSigner(worker.test_client())

    def put_through() -> bool:
        return "Putting you through" in phone.ring(MOBILE, at=MONDAY_MORNING).press("3").press("1").heard

    assert put_through()
    assert runner.invoke(args=["closures", "closed-now", "on"]).exit_code == 0
    ticks.seconds = 4.9
    assert put_through()  # the hours this worker read a moment ago
    ticks.seconds = 5.0
    assert not put_through()
    assert "Our office is closed just now." in phone.ring(MOBILE, at=MONDAY_MORNING).press("3").press("1").heard
    worker.extensions["db.engine"].dispose()
