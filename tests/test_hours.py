"""Office hours as a caller meets them: London time, weekdays 9-5, bank holidays, closures."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ivr.hours import OfficeHours, is_bank_holiday, london_time

LONDON = ZoneInfo("Europe/London")
HOURS = OfficeHours()


def at_london(*args) -> datetime:
    """A moment given as London wall-clock time, returned in UTC as the app stores it."""
    return datetime(*args, tzinfo=LONDON).astimezone(timezone.utc)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at_london(2026, 11, 30, 8, 59, 59), False),  # Monday, a second before opening
        (at_london(2026, 11, 30, 9, 0, 0), True),
        (at_london(2026, 11, 30, 16, 59, 59), True),
        (at_london(2026, 11, 30, 17, 0, 0), False),
        (at_london(2026, 11, 28, 11, 0), False),  # Saturday
        (at_london(2026, 11, 29, 11, 0), False),  # Sunday
        (at_london(2026, 12, 28, 11, 0), False),  # Boxing Day observed on Monday 28 December 2026
        (at_london(2026, 12, 29, 11, 0), True),
        (at_london(2026, 4, 3, 11, 0), False),  # Good Friday
        (at_london(2026, 4, 6, 11, 0), False),  # Easter Monday: only with subdivision ENG
        (at_london(2026, 8, 31, 11, 0), False),  # late summer bank holiday: only with ENG
        # Summer time: 08:30 UTC is 09:30 in London (open) though UTC says it is before nine.
        (datetime(2026, 7, 1, 8, 30, tzinfo=timezone.utc), True),
        (datetime(2026, 7, 1, 16, 30, tzinfo=timezone.utc), False),  # 17:30 in London
        # Winter time: UTC and London agree.
        (datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc), False),
        (datetime(2026, 12, 1, 16, 30, tzinfo=timezone.utc), True),
        # The Monday after the clocks go forward (29 March 2026) and back (25 October 2026).
        (at_london(2026, 3, 30, 9, 0), True),
        (datetime(2026, 3, 30, 7, 59, tzinfo=timezone.utc), False),  # 08:59 BST
        (at_london(2026, 10, 26, 9, 0), True),
        (datetime(2026, 10, 26, 8, 59, tzinfo=timezone.utc), False),  # 08:59 GMT
    ],
)
def test_open_at(moment, is_open):
    assert HOURS.is_open(moment) is is_open


def test_closure_dates_and_the_emergency_switch_close_the_office():
    tuesday = at_london(2026, 12, 1, 11, 0)
    assert not OfficeHours(closures=frozenset({date(2026, 12, 1)})).is_open(tuesday)
    assert not OfficeHours(closed_now=True).is_open(tuesday)
    assert OfficeHours(closures=frozenset({date(2026, 12, 2)})).is_open(tuesday)


@pytest.mark.parametrize(
    ("after", "opens"),
    [
        (at_london(2026, 11, 27, 17, 0), at_london(2026, 11, 30, 9, 0)),  # Friday evening -> Monday
        (at_london(2026, 11, 30, 7, 0), at_london(2026, 11, 30, 9, 0)),  # early Monday -> today
        (at_london(2026, 11, 30, 12, 0), at_london(2026, 12, 1, 9, 0)),  # during hours -> tomorrow
        (at_london(2026, 12, 24, 18, 0), at_london(2026, 12, 29, 9, 0)),  # Christmas and Boxing Day observed
        (at_london(2026, 4, 2, 17, 30), at_london(2026, 4, 7, 9, 0)),  # Easter weekend
        # The clocks go forward overnight: Monday's 9am is 08:00 UTC, not 09:00.
        (at_london(2026, 3, 27, 17, 0), datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)),
        (at_london(2026, 10, 23, 17, 0), datetime(2026, 10, 26, 9, 0, tzinfo=timezone.utc)),
    ],
)
def test_next_opening(after, opens):
    assert HOURS.next_opening(after) == opens


def test_next_opening_skips_closures():
    monday_early = at_london(2026, 11, 30, 7, 0)
    closed = OfficeHours(closures=frozenset({date(2026, 11, 30), date(2026, 12, 1)}))
    assert closed.next_opening(monday_early) == at_london(2026, 12, 2, 9, 0)


def test_closed_now_with_no_reopening_time_has_no_next_opening():
    """Nobody has said when the emergency ends, so nobody is told a time that may be untrue."""
    hours = OfficeHours(closed_now=True)
    assert not hours.is_open(at_london(2026, 12, 1, 11, 0))
    assert hours.next_opening(at_london(2026, 11, 30, 7, 0)) is None


@pytest.mark.parametrize(
    ("until", "opens"),
    [
        (at_london(2026, 12, 3, 14, 0), at_london(2026, 12, 3, 14, 0)),  # in the usual hours: then
        (at_london(2026, 12, 3, 18, 0), at_london(2026, 12, 4, 9, 0)),  # after them: the next morning
        (at_london(2026, 12, 3, 7, 30), at_london(2026, 12, 3, 9, 0)),  # before them: that morning
        (at_london(2026, 12, 5, 12, 0), at_london(2026, 12, 7, 9, 0)),  # a Saturday: Monday
        (at_london(2026, 12, 24, 16, 59), at_london(2026, 12, 24, 16, 59)),
        (at_london(2026, 12, 24, 17, 0), at_london(2026, 12, 29, 9, 0)),  # Christmas, Boxing Day observed
    ],
)
def test_closed_now_ends_by_itself_at_its_reopening_time(until, opens):
    """The office opens again at the first moment from `until` that the usual hours are open."""
    hours = OfficeHours(closed_now=True, closed_now_until=until)
    wednesday = at_london(2026, 12, 2, 10, 0)
    assert hours.next_opening(wednesday) == opens
    assert not hours.is_open(opens - timedelta(seconds=1))
    assert hours.is_open(opens)


def test_closed_now_that_has_ended_leaves_the_usual_hours():
    hours = OfficeHours(closed_now=True, closed_now_until=at_london(2026, 12, 1, 10, 0))
    assert hours.is_open(at_london(2026, 12, 1, 10, 0)) and not hours.is_closed_now(at_london(2026, 12, 1, 10, 0))
    assert hours.next_opening(at_london(2026, 12, 1, 12, 0)) == at_london(2026, 12, 2, 9, 0)


@pytest.mark.parametrize(
    ("until", "opens"),
    [
        # Closed on the Friday before the clocks go forward, until 8:30 on Monday (BST, 07:30 UTC):
        # the office opens at 9:00 BST, 08:00 UTC.
        (datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc), datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)),
        # Until 10:00 BST (09:00 UTC) on the Monday: that moment, though UTC says nine.
        (datetime(2026, 3, 30, 9, 0, tzinfo=timezone.utc), datetime(2026, 3, 30, 9, 0, tzinfo=timezone.utc)),
    ],
)
def test_closed_now_ends_correctly_across_the_clocks_going_forward(until, opens):
    hours = OfficeHours(closed_now=True, closed_now_until=until)
    assert hours.next_opening(at_london(2026, 3, 27, 12, 0)) == opens
    assert not hours.is_open(opens - timedelta(minutes=1)) and hours.is_open(opens)


def test_closed_now_ends_correctly_across_the_clocks_going_back():
    # Until 8:30 on Monday 26 October (GMT again, 08:30 UTC): the office opens at 09:00 UTC.
    hours = OfficeHours(closed_now=True, closed_now_until=datetime(2026, 10, 26, 8, 30, tzinfo=timezone.utc))
    assert hours.next_opening(at_london(2026, 10, 23, 12, 0)) == datetime(2026, 10, 26, 9, 0, tzinfo=timezone.utc)


def test_working_days_skip_weekends_and_bank_holidays():
    days = HOURS.working_days(date(2026, 12, 24))
    assert [next(days) for _ in range(3)] == [date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30)]


def test_bank_holidays_are_englands():
    assert is_bank_holiday(date(2026, 12, 28))
    assert not is_bank_holiday(date(2026, 11, 30))
    assert not is_bank_holiday(date(2026, 1, 2))  # a Scottish bank holiday, not an English one


def test_london_time_converts_wall_clock_to_utc_across_seasons():
    assert london_time(date(2026, 7, 1), datetime.min.time().replace(hour=9)) == datetime(2026, 7, 1, 8, tzinfo=timezone.utc)
    assert london_time(date(2026, 12, 1), datetime.min.time().replace(hour=9)) == datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
