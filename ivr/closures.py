"""Closure dates and the emergency "closed now" switch, as administrators set them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.helpline import Helpline
from ivr.hours import OfficeHours, london
from ivr.models import CLOSED_NOW, Closure, Switch

# Closures further ahead than this cannot change what a caller hears or can book today.
LOOKAHEAD = timedelta(days=60)

# Bumped by every change made in this process, so this process's cached hours are never stale.
_changes = itertools.count()
_generation = next(_changes)


def _changed() -> None:
    global _generation
    _generation = next(_changes)


class OfficeHoursCache:
    """The office hours for a few seconds: most steps of every call ask for them.

    A change made through this module in the same process clears it at once; one made by another
    process (another web worker, the admin's CLI) is seen within `seconds`.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.entry: tuple[tuple, float, OfficeHours] | None = None

    def get(self, now: datetime, load: Callable[[], OfficeHours]) -> OfficeHours:
        key = (_generation, london(now).date())
        entry = self.entry
        if entry is not None and entry[0] == key and self.clock() < entry[1]:
            return entry[2]
        hours = load()
        self.entry = (key, self.clock() + self.seconds, hours)
        return hours


def office_hours(session: Session, helpline: Helpline, now: datetime) -> OfficeHours:
    """The office hours in force at `now`, with the closures that matter to a caller today."""
    today = now.date() - timedelta(days=1)
    closures = frozenset(session.scalars(select(Closure.day).where(Closure.day >= today, Closure.day <= today + LOOKAHEAD)))
    switch = session.get(Switch, CLOSED_NOW)
    return helpline.office_hours(closures, closed_now=bool(switch and switch.on))


def list_closures(session: Session, since: date) -> list[Closure]:
    return list(session.scalars(select(Closure).where(Closure.day >= since).order_by(Closure.day)))


def add_closure(session: Session, day: date, reason: str = "") -> Closure:
    """Close the office on `day` (adding the same day again just updates the reason)."""
    closure = session.get(Closure, day) or Closure(day=day)
    closure.reason = reason
    session.add(closure)
    _changed()
    return closure


def remove_closure(session: Session, day: date) -> bool:
    """Reopen `day`; False when it was not closed."""
    _changed()
    return session.execute(delete(Closure).where(Closure.day == day)).rowcount > 0


def set_closed_now(session: Session, on: bool, by: str, now: datetime) -> None:
    switch = session.get(Switch, CLOSED_NOW) or Switch(name=CLOSED_NOW)
    switch.on, switch.changed_by, switch.changed_at = on, by, now
    session.add(switch)
    _changed()


def is_closed_now(session: Session) -> bool:
    switch = session.get(Switch, CLOSED_NOW)
    return bool(switch and switch.on)
