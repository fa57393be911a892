"""Closure dates and the emergency "closed now" switch, as administrators set them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from ivr.helpline import Helpline
from ivr.hours import OfficeHours, is_bank_holiday
from ivr.models import CLOSED_NOW, Closure, Switch

# Closures further ahead than this cannot change what a caller hears or can book today.
LOOKAHEAD = timedelta(days=60)


# Read at most steps of every call: built once.
_CLOSED_DAYS = select(Closure.__table__.c.day).where(Closure.__table__.c.day.between(bindparam("first"), bindparam("last")))
_CLOSED_NOW = select(Switch.__table__.c.on, Switch.__table__.c.until).where(Switch.__table__.c.name == CLOSED_NOW)


def office_hours(session: Session, helpline: Helpline, now: datetime) -> OfficeHours:
    """The office hours in force at `now`, with the closures that matter to a caller today and the
    "closed now" switch (which `OfficeHours.is_closed_now` ends by itself at its reopening time)."""
    first = now.date() - timedelta(days=1)  # London's today, whatever the UTC date
    closures = frozenset(session.scalars(_CLOSED_DAYS, {"first": first, "last": first + LOOKAHEAD}))
    on, until = session.execute(_CLOSED_NOW).one_or_none() or (False, None)
    return helpline.office_hours(closures, closed_now=on, closed_now_until=until)


class RecentOfficeHours:
    """The office hours a web worker read in the last few `seconds`: nearly every step of a call
    asks for them, and a closure or the "closed now" switch reaches every caller within that time."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.read: tuple[date, float, OfficeHours] | None = None  # the London day, when, what

    def get(self, today: date, load: Callable[[], OfficeHours]) -> OfficeHours:
        read = self.read
        if read is None or read[0] != today or self.clock() - read[1] >= self.seconds:
            read = self.read = (today, self.clock(), load())
        return read[2]


def list_closures(session: Session, since: date) -> list[Closure]:
    return list(session.scalars(select(Closure).where(Closure.day >= since).order_by(Closure.day)))


def add_closure(session: Session, day: date, reason: str = "") -> Closure:
    """Close the office on `day` (adding the same day again just updates the reason)."""
    closure = session.get(Closure, day) or Closure(day=day)
    closure.reason = reason
    session.add(closure)
    return closure


class ClosureInThePast(ValueError):
    """A closure for a day already gone: it could change nothing."""


def close_on(session: Session, helpline: Helpline, day: date, reason: str, today: date) -> str | None:
    """Close the office on `day`, as an administrator asks (`today` is London's). Refuses a day
    already past. Returns why the office would be closed then anyway (a weekend, a bank holiday),
    so whoever asked can be told, or None."""
    if day < today:
        raise ClosureInThePast(f"{day.isoformat()} has already passed")
    add_closure(session, day, reason)
    return already_closed_because(helpline, day)


def already_closed_because(helpline: Helpline, day: date) -> str | None:
    """Why the office is closed on `day` without any closure, in words for staff; None on a working day."""
    if is_bank_holiday(day):
        return "it is a bank holiday in England"
    if not helpline.office_hours().is_working_day(day):
        return f"the office does not open on {day:%A}s"
    return None


def remove_closure(session: Session, day: date) -> bool:
    """Reopen `day`; False when it was not closed."""
    return session.execute(delete(Closure).where(Closure.day == day)).rowcount > 0


@dataclass(frozen=True)
class ClosedNow:
    """The emergency switch as callers meet it: when it ends by itself, and when they hear we open again."""

    until: datetime | None  # None: it stays on until switched off
    reopens: datetime | None  # None: callers hear nothing about when we open again


def closed_now(session: Session, helpline: Helpline, now: datetime) -> ClosedNow | None:
    """The "closed now" switch, if it is in force at `now` (on, and not yet ended by itself)."""
    hours = office_hours(session, helpline, now)
    if not hours.is_closed_now(now):
        return None
    return ClosedNow(until=hours.closed_now_until, reopens=hours.next_opening(now))


class ReopeningPassed(ValueError):
    """The reopening time given for "closed now" is not in the future."""


def set_closed_now(session: Session, on: bool, by: str, now: datetime, until: datetime | None = None) -> None:
    """Switch "closed now" on, until `until` (UTC) or until switched off; or off."""
    if on and until is not None and until <= now:
        raise ReopeningPassed("the reopening time has already passed")
    switch = session.get(Switch, CLOSED_NOW) or Switch(name=CLOSED_NOW)
    switch.on, switch.until, switch.changed_by, switch.changed_at = on, until if on else None, by, now
    session.add(switch)
