"""How the pages show times, windows, numbers and regions: London time, in plain words."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import current_app
from flask_login import current_user

from ivr import closures, current_time
from ivr.db.sessions import request_session
from ivr.helpline import CallbackWindow
from ivr.hours import london
from ivr.phone import for_staff
from ivr.staff import bp


def clock_time(moment: time) -> str:
    """`9am`, `12 noon`, `5:30pm`: how the helpline says times."""
    if moment.hour == 12 and moment.minute == 0:
        return "12 noon"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def day_name(day: date) -> str:
    """`Monday 30 November`."""
    return f"{day:%A} {day.day} {day:%B}"


@bp.app_template_filter("when")
def when(moment: datetime | None) -> str:
    """A stored UTC time as London reads it: `Mon 30 Nov 2026, 2:05pm`."""
    if moment is None:
        return "—"
    local = london(moment)
    return f"{local:%a} {local.day} {local:%b %Y}, {clock_time(local.time())}"


@bp.app_template_filter("window")
def window(callback) -> str:
    """A callback's window: `Mon 30 Nov, 9am–12 noon`."""
    starts, ends = london(callback.window_start), london(callback.window_end)
    return f"{starts:%a} {starts.day} {starts:%b}, {clock_time(starts.time())}–{clock_time(ends.time())}"


@bp.app_template_filter("phone")
def phone(e164: str | None) -> str:
    return for_staff(e164) if e164 else "withheld"


def window_label(window: CallbackWindow) -> str:
    return f"{window.id.capitalize()} ({clock_time(window.starts)} to {clock_time(window.ends)})"


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


REMINDER_KINDS = {"day_before": "Day before", "hour_before": "Hour before"}


@bp.app_template_filter("reminder")
def reminder(text) -> str:
    """One reminder text in a few words: `Day before: sent, delivered`."""
    parts = [text.status]
    if text.delivery_status:
        parts.append(text.delivery_status)
    if text.error_code:
        parts.append(f"error {text.error_code}")
    if text.simulated:
        parts.append("simulated (not really sent)")
    return f"{REMINDER_KINDS.get(text.kind, text.kind)}: {', '.join(parts)}"
