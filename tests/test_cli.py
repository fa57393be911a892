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


class FakeMonotonic:
    def __init__(self):
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def test_office_hours_are_reused_briefly_and_a_change_elsewhere_is_seen_within_the_cache_time(app, session):
    from ivr.models import CLOSED_NOW, Switch

    helpline, now, ticks = app.extensions["helpline"], utc(2026, 12, 2, 11), FakeMonotonic()
    cache = closures.OfficeHoursCache(5, clock=ticks)
    load = lambda: closures.office_hours(session, helpline, now)  # noqa: E731
    assert cache.get(now, load).is_open(now)

    # Another process (another web worker, the CLI) switches "closed now" on: not through this module.
    session.add(Switch(name=CLOSED_NOW, on=True, changed_by="elsewhere"))
    session.commit()
    ticks.seconds = 4.9
    assert cache.get(now, load).is_open(now)  # still the hours read a moment ago
    ticks.seconds = 5.1
    assert not cache.get(now, load).is_open(now)  # seen within the cache time


def test_a_change_made_in_this_process_applies_at_once(app, session):
    helpline, now, ticks = app.extensions["helpline"], utc(2026, 12, 2, 11), FakeMonotonic()
    cache = closures.OfficeHoursCache(5, clock=ticks)
    load = lambda: closures.office_hours(session, helpline, now)  # noqa: E731
    assert cache.get(now, load).is_open(now)
    closures.set_closed_now(session, True, by="admin", now=now)
    session.commit()
    assert not cache.get(now, load).is_open(now)
    closures.add_closure(session, date(2026, 12, 3))
    closures.set_closed_now(session, False, by="admin", now=now)
    session.commit()
    assert not cache.get(now, load).is_working_day(date(2026, 12, 3))
