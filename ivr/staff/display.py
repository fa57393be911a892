"""How the pages show times, windows, numbers, regions and what happened: London time, in plain
words (ivr.wording, the one formatter the phone line and the texts use too), never an internal label."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_login import current_user

from ivr import closures, current_time, replies, wording
from ivr.db.sessions import request_session
from ivr.helpline import CallbackWindow
from ivr.hours import london
from ivr.models import CallbackStatus, DeliveryStatus, EventKind, ReminderStatus, TextCommand
from ivr.phone import for_staff
from ivr.staff import bp


def today() -> date:
    """Today in London: a date in this year is written without its year."""
    return london(current_time.now()).date()


@bp.app_template_filter("when")
def when(moment: datetime | None) -> str:
    """A stored UTC time as London reads it: `Mon 30 Nov, 2:05pm` (`Mon 30 Nov 2025, 2:05pm` in another year)."""
    return "—" if moment is None else wording.moment(moment, today())


@bp.app_template_filter("day")
def day_name(day: date) -> str:
    """`Monday 30 November` (`Monday 4 January 2027` in another year)."""
    return wording.written_date(day, today())


@bp.app_template_filter("window")
def window(callback) -> str:
    """A callback's window: `Mon 30 Nov, 9am–12 noon`."""
    return wording.window(callback.window_start, callback.window_end, today())


CALLBACK_STATUSES = {
    CallbackStatus.BOOKED: "Booked", CallbackStatus.CONFIRMED: "Confirmed (they replied YES)",
    CallbackStatus.REARRANGE: "To rearrange (they replied CHANGE)", CallbackStatus.OVERDUE: "Overdue",
    CallbackStatus.COMPLETED: "Completed", CallbackStatus.CANCELLED: "Cancelled",
}


@bp.app_template_filter("callback_status")
def callback_status(status: str) -> str:
    """Where a callback stands, in words: `To rearrange (they replied CHANGE)`, not `Rearrange`."""
    return CALLBACK_STATUSES.get(status, status.capitalize())


AUDIT_ACTIONS = {"view": "Viewed", "update": "Changed", "create": "Created", "delete": "Deleted",
                 "play": "Played the message", "export": "Exported"}


@bp.app_template_filter("audit_action")
def audit_action(action: str) -> str:
    """What someone did to a record, in words: `Viewed`, not `view`."""
    return AUDIT_ACTIONS.get(action, action.capitalize())


@bp.app_template_filter("phone")
def phone(e164: str | None) -> str:
    return for_staff(e164) if e164 else "withheld"


def window_label(window: CallbackWindow) -> str:
    """`Morning, 9am–12 noon`."""
    return f"{window.id.capitalize()}, {wording.span(window.starts, window.ends)}"


def region_name(region_id: str) -> str:
    region = current_app.extensions["helpline"].region(region_id)
    return region.name if region else region_id


@bp.context_processor
def staff_page_helpers() -> dict:
    return {"region_name": region_name, "regions": current_app.extensions["helpline"].regions}


@bp.context_processor
def closed_now_banner() -> dict:
    """Whether "closed now" is in force, for the banner on every page a signed-in officer sees."""
    if not current_user.is_authenticated:
        return {}
    helpline = current_app.extensions["helpline"]
    return {"closed_now": closures.closed_now(request_session(), helpline, current_time.now())}


REMINDER_KINDS = {"day_before": "Day before", "hour_before": "Hour before", "staff": "Officer's text"}
REMINDER_STATUSES = {
    ReminderStatus.PENDING: "to go", ReminderStatus.CLAIMED: "being sent", ReminderStatus.SENDING: "being sent",
    ReminderStatus.SENT: "sent", ReminderStatus.FAILED: "could not be sent",
    ReminderStatus.UNKNOWN: "may or may not have gone (a fault): it will not be resent",
    ReminderStatus.CANCELLED: "cancelled", ReminderStatus.MISSED: "not sent: too late by the time the clock ran",
    ReminderStatus.HELD: "held",
}
DELIVERY = {
    DeliveryStatus.ACCEPTED: "on its way", DeliveryStatus.SCHEDULED: "on its way", DeliveryStatus.QUEUED: "on its way",
    DeliveryStatus.SENDING: "on its way", DeliveryStatus.SENT: "with the phone network",
    DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.UNDELIVERED: "not delivered",
    DeliveryStatus.FAILED: "not delivered", DeliveryStatus.CANCELED: "cancelled before it went",
    DeliveryStatus.READ: "read",
}


@bp.app_template_filter("reminder")
def reminder(text) -> str:
    """One reminder text in a few words: `Day before: sent, delivered`."""
    parts = [REMINDER_STATUSES.get(text.status, text.status)]
    if text.delivery_status:
        parts.append(DELIVERY.get(text.delivery_status, text.delivery_status))
    if text.error_code:
        parts.append(f"error {text.error_code}")
    if text.simulated:
        parts.append("simulated (not really sent)")
    return f"{REMINDER_KINDS.get(text.kind, text.kind)}: {', '.join(parts)}"


EVENTS = {
    EventKind.BOOKED: "Booked", EventKind.OVERDUE: "Overdue", EventKind.ATTEMPT: "Call attempt",
    EventKind.NOTE: "Note", EventKind.RESCHEDULED: "Rescheduled", EventKind.COMPLETED: "Completed",
    EventKind.CANCELLED: "Cancelled", EventKind.ASSIGNED: "Assigned", EventKind.TEXT_REPLY: "Replied by text",
    EventKind.TEXTS_STOPPED: "Texts stopped", EventKind.TEXTS_RESTARTED: "Texts started again",
    EventKind.TEXT_UNKNOWN: "A text may not have gone", EventKind.TEXT_FAILED: "A text failed",
    EventKind.TEXTS_HELD: "Texts held", EventKind.TEXTS_RESUMED: "Texts may go again",
    EventKind.TEXTS_ALLOWED: "Texts turned on", EventKind.REPLY_READ: "Reply read",
}


@bp.app_template_filter("event")
def event(kind: str) -> str:
    """What a line of a callback's history records, in words: `Replied by text`, not `text_reply`."""
    return EVENTS.get(kind, kind.replace("_", " ").capitalize())


REPLY_MEANINGS = {
    TextCommand.YES: "YES: confirms the call", TextCommand.CHANGE: "CHANGE: wants another time",
    TextCommand.STOP: "STOP: no more texts", TextCommand.START: "START: texts again",
    TextCommand.HELP: "HELP: asked how to reply", TextCommand.OTHER: "Not a reply word: please read it",
}


@bp.app_template_filter("meaning")
def meaning(command: str) -> str:
    """What we took a text someone sent us to mean."""
    return REPLY_MEANINGS.get(command, command)


@bp.app_template_filter("answered_with")
def answered_with(text) -> str | None:
    """The words texted back in answer to a text someone sent us, if any. Not stored: rendered from
    the same template (templates/sms/) the answer was, which has nothing filled in."""
    return replies.answer_for(text)
