"""The queue (/staff/): callbacks due today and overdue first, then upcoming; what the clock
flagged; new voicemails; texts that match no callback. Each list in pages, its heading counting
all that match. Filters in the query string: region, status, "assigned to me", a number (whole,
or its last digits) and a range of days (a callback's window, a message's arrival)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from datetime import date, datetime, time, timedelta

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from ivr import current_time, outbound
from ivr.db.sessions import request_session
from ivr.hours import london, london_time
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    CallAttempt,
    Callback,
    CallbackStatus,
    InboundText,
    Reminder,
    ReminderStatus,
    StaffUser,
    TextKind,
    TextsHeld,
    Voicemail,
    VoicemailStatus,
)
from ivr.outbox import UNDELIVERED
from ivr.phone import parse_uk
from ivr.staff import bp
from ivr.staff.audit import audit
from ivr.staff.paging import Page, page_number, page_of
from ivr.staff.texts import unmatched_texts

STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "open": tuple(OPEN_CALLBACK_STATUSES),
    **{status.value: (status.value,) for status in CallbackStatus},
    "all": tuple(CallbackStatus),
}
STATUS_LABELS = {"open": "Open (not completed or cancelled)", "all": "All"}
# The end of a number an officer may search by: at least as many digits as the logs show.
SHORTEST_SEARCH = 3
_LAST_DIGITS = re.compile(f"[0-9]{{{SHORTEST_SEARCH},15}}")  # ASCII digits only ("²".isdigit() is true)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A day beyond these is a typing slip (and year 9999's next midnight cannot be computed).
SENSIBLE_DAYS = (date(2000, 1, 1), date(2999, 12, 31))


def attention(callback: Callback, now: datetime, called_too_often: Collection[int] = ()) -> list[str]:
    """Why an officer should look at this callback before anything else, if they should."""
    reasons = []
    if callback.id in called_too_often:
        reasons.append(f"Called {current_app.config['CALLBACK_MAX_ATTEMPTS']} times or more without a conversation: "
                       "decide what next")
    if callback.texts_held == TextsHeld.NOT_SAFE:
        reasons.append("Not safe to talk: texts held")
    elif callback.texts_held == TextsHeld.REPLY:
        reasons.append("A reply to read: texts held")
    if callback.status == CallbackStatus.REARRANGE:
        reasons.append("Asked to rearrange by text")
    # Reminders and officers' texts are both rows of the outbox; the officer is told which went wrong.
    for by_officer in sorted({r.kind == TextKind.STAFF for r in callback.reminders if r.status == ReminderStatus.UNKNOWN}):
        reasons.append("Not known whether an officer's text went" if by_officer
                       else "Not known whether a reminder text went")
    for by_officer in sorted({r.kind == TextKind.STAFF for r in callback.reminders
                              if r.status == ReminderStatus.FAILED or r.delivery_status in UNDELIVERED}):
        reasons.append("An officer's text failed" if by_officer else "A reminder text failed")
    if callback.status in OPEN_CALLBACK_STATUSES and callback.window_end < now:
        reasons.append("Overdue")
    return reasons


def _flagged(query: Select) -> Select:
    troubled = select(Reminder.callback_id).where(or_(
        Reminder.status.in_((ReminderStatus.UNKNOWN, ReminderStatus.FAILED)),
        Reminder.delivery_status.in_(UNDELIVERED)))
    return query.where(Callback.status.in_(OPEN_CALLBACK_STATUSES),
                       or_(Callback.status == CallbackStatus.REARRANGE, Callback.texts_held.is_not(None),
                           Callback.id.in_(troubled), Callback.id.in_(_called_too_often())))


def _called_too_often():
    return outbound.callbacks_called_too_often(current_app.config["CALLBACK_MAX_ATTEMPTS"])


@dataclass(frozen=True)
class Filters:
    """What the officer asked the queue for; each part empty when not asked."""

    region: str = ""
    status: str = "open"
    mine: str = ""
    number: str = ""  # as typed
    since: date | None = None  # London days, both included
    until: date | None = None

    def as_form(self) -> dict[str, str]:
        return {"region": self.region, "status": self.status, "mine": self.mine, "number": self.number,
                "from": self.since.isoformat() if self.since else request.args.get("from", ""),
                "to": self.until.isoformat() if self.until else request.args.get("to", "")}


def _day(param: str, name: str, errors: list[str]) -> date | None:
    typed = request.args.get(param, "").strip()
    if not typed:
        return None
    try:
        if _DATE.fullmatch(typed) and SENSIBLE_DAYS[0] <= (day := date.fromisoformat(typed)) <= SENSIBLE_DAYS[1]:
            return day
    except ValueError:
        pass
    errors.append(f"The “{name}” date must be a real date, like 2026-12-01.")
    return None


def _filters() -> tuple[Filters, list[str]]:
    """The filters in the query string, and what is wrong with them (each a sentence for the officer)."""
    helpline = current_app.extensions["helpline"]
    args, errors = request.args, []
    region, status, mine = args.get("region", ""), args.get("status", "open"), args.get("mine", "")
    if region and helpline.region(region) is None:
        errors.append(f"There is no region “{region}”; choose one from the list.")
    if status not in STATUS_FILTERS:
        errors.append(f"There is no status “{status}”; choose one from the list.")
    if mine not in ("", "1"):
        errors.append("'Assigned to me' is either ticked or not.")
    number = args.get("number", "").strip()
    if number and not (parse_uk(number) or _LAST_DIGITS.fullmatch(_digits(number))):
        errors.append(f"Search by a whole UK number, or by its last digits (at least {SHORTEST_SEARCH}), e.g. 456.")
    since, until = _day("from", "from", errors), _day("to", "to", errors)
    if since and until and since > until:
        errors.append("The “from” date is after the “to” date; swap them, or leave one empty.")
    return Filters(region, status, mine, number, since, until), errors


def _digits(typed: str) -> str:
    """What was typed, without the spaces, dashes and brackets people write numbers with."""
    return re.sub(r"[\s\-().]", "", typed)


def _matching(query: Select, column, moment_column, chosen: Filters) -> Select:
    """`query` narrowed to the number and the days asked for: a whole number matches itself (by its
    index), digits match the numbers that end with them."""
    if chosen.number:
        whole = parse_uk(chosen.number)
        query = query.where(column == whole if whole else column.endswith(_digits(chosen.number)))
    if chosen.since:
        query = query.where(moment_column >= london_time(chosen.since, time(0)))
    if chosen.until:
        query = query.where(moment_column < london_time(chosen.until + timedelta(days=1), time(0)))
    return query


@bp.get("/")
def queue():
    chosen, errors = _filters()
    pages = {key: page_number(f"{key}_page", errors) for key in ("flagged", "due", "upcoming", "callbacks",
                                                                   "voicemails", "texts")}
    page = {"chosen": chosen.as_form(), "errors": errors, "status_filters": STATUS_FILTERS,
            "status_labels": STATUS_LABELS}
    if errors:
        return render_template("staff/queue.html", **page), 400
    db, now = request_session(), current_time.now()
    base = select(Callback).where(Callback.status.in_(STATUS_FILTERS[chosen.status]))
    if chosen.region:
        base = base.where(Callback.region == chosen.region)
    if chosen.mine:
        base = base.where(Callback.assigned_to_id == current_user.id)
    base = _matching(base, Callback.phone_number, Callback.window_start, chosen)
    order = (Callback.window_start, Callback.id)
    with_reminders = (selectinload(Callback.reminders),)

    def callbacks(key: str, query: Select) -> Page:
        return page_of(db, query, f"{key}_page", pages[key], options=with_reminders)

    sections = []
    if set(STATUS_FILTERS[chosen.status]) <= set(OPEN_CALLBACK_STATUSES):
        end_of_today = london_time(london(now).date() + timedelta(days=1), time(0))
        flagged = callbacks("flagged", _flagged(base).order_by(*order))
        sections.append(("due", "Due today and overdue",
                         callbacks("due", base.where(Callback.window_start < end_of_today).order_by(*order))))
        sections.append(("upcoming", "Upcoming",
                         callbacks("upcoming", base.where(Callback.window_start >= end_of_today).order_by(*order))))
    else:
        flagged = None
        sections.append(("callbacks", "Callbacks", callbacks(
            "callbacks", base.order_by(Callback.window_start.desc(), Callback.id.desc()))))
    voicemail_query = select(Voicemail).where(Voicemail.status == VoicemailStatus.NEW)
    if chosen.region:
        voicemail_query = voicemail_query.where(Voicemail.region == chosen.region)
    voicemail_query = _matching(voicemail_query, Voicemail.from_number, Voicemail.created_at, chosen)
    voicemails = page_of(db, voicemail_query.order_by(Voicemail.created_at, Voicemail.id), "voicemails_page",
                         pages["voicemails"])
    # They belong to no team and no officer, so every team and "assigned to me" shows them.
    texts = page_of(db, _matching(unmatched_texts(), InboundText.from_number, InboundText.received_at, chosen),
                    "texts_page", pages["texts"])

    shown = {c.id: c for _key, _title, rows in sections for c in rows.rows} | (
        {c.id: c for c in flagged.rows} if flagged else {})
    replies: dict[int, list[InboundText]] = defaultdict(list)
    for text in db.scalars(select(InboundText).where(InboundText.callback_id.in_(shown))
                           .order_by(InboundText.received_at)):
        replies[text.callback_id].append(text)
    officer_ids = {c.assigned_to_id for c in shown.values() if c.assigned_to_id}
    officers = dict(db.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(officer_ids))).all())
    called_too_often = set(db.scalars(_called_too_often().where(CallAttempt.callback_id.in_(shown))))

    audit("view", "queue", detail=f"callbacks {sorted(shown)}; voicemails {[v.id for v in voicemails.rows]}; "
                                  f"texts {[t.id for t in texts.rows]}")
    db.commit()
    return render_template("staff/queue.html", **page, sections=sections, flagged=flagged, voicemails=voicemails,
                           texts=texts, replies=replies, officers=officers,
                           attention=partial(attention, called_too_often=called_too_often), now=now)
