"""Administrators manage closure days and the emergency switch from the command line."""

from datetime import date

from ivr import closures
from ivr.helpline import load_helpline
from tests.conftest import utc


def test_closures_add_list_remove(runner, app, session):
    assert runner.invoke(args=["closures", "add", "2099-12-24", "--reason", "staff training"]).exit_code == 0
    listed = runner.invoke(args=["closures", "list"]).output
    assert "2099-12-24" in listed and "staff training" in listed and "Closed now: off" in listed
    result = runner.invoke(args=["closures", "remove", "2099-12-24"])
    assert result.exit_code == 0 and "Open again" in result.output
    assert "No closures ahead" in runner.invoke(args=["closures", "list"]).output


def test_a_closure_closes_the_office_the_app_consults(runner, app, session):
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
    assert "We open again" in phone.ring(MOBILE, at=MONDAY_MORNING).press("3").press("1").heard
    worker.extensions["db.engine"].dispose()
