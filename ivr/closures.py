"""Closure dates and the emergency "closed now" switch, as administrators set them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.helpline import Helpline
from ivr.hours import OfficeHours
from ivr.models import CLOSED_NOW, Closure, Switch

# Closures further ahead than this cannot change what a caller hears or can book today.
LOOKAHEAD = timedelta(days=60)


def office_hours(session: Session, helpline: Helpline, now: datetime) -> OfficeHours:
    """The office hours in force at `now`, with the closures that matter to a caller today."""
    today = now.date() - timedelta(days=1)
    closures = frozenset(session.scalars(select(Closure.day).where(Closure.day >= today, Closure.day <= today + LOOKAHEAD)))
    return helpline.office_hours(closures, closed_now=is_closed_now(session))


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
    switch = session.get(Switch, CLOSED_NOW)
    return bool(switch and switch.on)
