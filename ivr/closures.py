"""Closure dates and the emergency "closed now" switch, as administrators set them."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from ivr.helpline import Helpline
from ivr.hours import OfficeHours
from ivr.models import CLOSED_NOW, Closure, Switch

# Closures further ahead than this cannot change what a caller hears or can book today.
LOOKAHEAD = timedelta(days=60)


# Read at most steps of every call: built once.
_CLOSED_DAYS = select(Closure.__table__.c.day).where(Closure.__table__.c.day.between(bindparam("first"), bindparam("last")))
_CLOSED_NOW = select(Switch.__table__.c.on).where(Switch.__table__.c.name == CLOSED_NOW)


def office_hours(session: Session, helpline: Helpline, now: datetime) -> OfficeHours:
    """The office hours in force at `now`, with the closures that matter to a caller today."""
    first = now.date() - timedelta(days=1)  # London's today, whatever the UTC date
    closures = frozenset(session.scalars(_CLOSED_DAYS, {"first": first, "last": first + LOOKAHEAD}))
    return helpline.office_hours(closures, closed_now=is_closed_now(session))


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


def remove_closure(session: Session, day: date) -> bool:
    """Reopen `day`; False when it was not closed."""
    return session.execute(delete(Closure).where(Closure.day == day)).rowcount > 0


def set_closed_now(session: Session, on: bool, by: str, now: datetime) -> None:
    switch = session.get(Switch, CLOSED_NOW) or Switch(name=CLOSED_NOW)
    switch.on, switch.changed_by, switch.changed_at = on, by, now
    session.add(switch)


def is_closed_now(session: Session) -> bool:
    return bool(session.scalar(_CLOSED_NOW))
