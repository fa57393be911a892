"""When the office is open: weekday hours in London, less bank holidays in England and closures.

The only module that knows the helpline's time zone. Functions take UTC-aware times and return
UTC-aware times; London wall-clock times are converted here, so the weeks the clocks change
need no special care anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # Subdivision ENG: without it Easter Monday and the August holiday are missing.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_bank_holiday(day: date) -> bool:
    """Whether `day` is a bank holiday in England (observed days included)."""
    return day in _bank_holidays(day.year)


def london(moment: datetime) -> datetime:
    """The London wall-clock time of a UTC-aware moment."""
    return moment.astimezone(LONDON)


def london_time(day: date, wall_clock: time) -> datetime:
    """The UTC moment at which London's clocks show `wall_clock` on `day`."""
    return datetime.combine(day, wall_clock, tzinfo=LONDON).astimezone(timezone.utc)


def from_london_text(text: str) -> datetime:
    """The UTC moment a London wall-clock time written like `2026-11-28 10:00` stands for (a date
    alone is its midnight); ValueError for anything else, a written offset included."""
    written = datetime.fromisoformat(text.strip())
    if written.tzinfo is not None:
        raise ValueError(f"{text!r} gives an offset; write London's wall-clock time without one")
    return london_time(written.date(), written.time())


# No text is sent between these London times (DESIGN.md "Texts").
QUIET_STARTS = time(20)
QUIET_ENDS = time(8)


def in_quiet_hours(moment: datetime) -> bool:
    """Whether `moment` falls between 20:00 and 08:00 London time, when no text may go."""
    wall_clock = london(moment).time()
    return wall_clock >= QUIET_STARTS or wall_clock < QUIET_ENDS


def quiet_hours_began(moment: datetime) -> datetime:
    """The 20:00 (London) at which the quiet hours containing `moment` began."""
    local = london(moment)
    evening = local.date() if local.time() >= QUIET_STARTS else local.date() - timedelta(days=1)
    return london_time(evening, QUIET_STARTS)


def quiet_hours_end(moment: datetime) -> datetime:
    """The 08:00 (London) at which the quiet hours containing `moment` end."""
    local = london(moment)
    morning = local.date() if local.time() < QUIET_ENDS else local.date() + timedelta(days=1)
    return london_time(morning, QUIET_ENDS)


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours with the administrators' closures and the emergency "closed now" switch."""

    opens: time = time(9)
    closes: time = time(17)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    closures: frozenset[date] = frozenset()
    closed_now: bool = False
    closed_now_until: datetime | None = None  # when "closed now" ends by itself (UTC); None: when switched off

    def is_working_day(self, day: date) -> bool:
        """Whether the office opens at all on `day` (the emergency switch aside)."""
        return day.weekday() in self.weekdays and not is_bank_holiday(day) and day not in self.closures

    def is_closed_now(self, moment: datetime) -> bool:
        """Whether the emergency "closed now" is in force at `moment` (on, and not yet ended by itself)."""
        return self.closed_now and (self.closed_now_until is None or moment < self.closed_now_until)

    def is_open(self, now: datetime) -> bool:
        """Whether a caller at `now` can be put through to a team."""
        return not self.is_closed_now(now) and self._in_hours(now)

    def _in_hours(self, moment: datetime) -> bool:
        local = london(moment)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def working_days(self, start: date) -> Iterator[date]:
        """Working days from `start` (included) onwards."""
        day = start
        while True:
            if self.is_working_day(day):
                yield day
            day += timedelta(days=1)

    def next_opening(self, after: datetime) -> datetime | None:
        """The first moment after `after` at which the office opens.

        While "closed now" is in force, the first moment it is open once the switch ends by itself:
        that moment if it falls in the usual hours, else the usual opening after it. None when the
        switch has no end: nobody can say when the office opens again.
        """
        if self.is_closed_now(after):
            if self.closed_now_until is None:
                return None
            if self._in_hours(self.closed_now_until):
                return self.closed_now_until
            after = self.closed_now_until
        local = london(after)
        start = local.date() + timedelta(days=1) if local.time() >= self.opens else local.date()
        return london_time(next(self.working_days(start)), self.opens)
