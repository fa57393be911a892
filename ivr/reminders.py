"""Reminder texts for callbacks: planning them as rows, and cancelling them.

To be filled in by the reminders work (issue "Reminder texts, replies and the clock process").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ivr.models import Callback, Reminder


def plan_reminders(session: Session, callback: Callback, now: datetime) -> list[Reminder]:
    """Plan the reminder rows for a newly booked callback (none yet: texts come with the clock)."""
    return []


def replan_reminders(session: Session, callback: Callback, now: datetime) -> list[Reminder]:
    """Cancel a rescheduled callback's unsent reminders and plan its new ones (none yet: texts come with the clock)."""
    return []


def cancel_reminders(session: Session, callback: Callback, now: datetime) -> int:
    """Cancel the unsent reminders of a callback that was completed or cancelled (none yet: texts come with the clock)."""
    return 0
