"""The queue (/staff/): callbacks due today and overdue first, then upcoming; what the clock
flagged; new voicemails; texts that match no callback. Filters by region, status and "assigned to
me" come in the query string."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.hours import london, london_time
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    Callback,
    CallbackStatus,
    InboundText,
    Reminder,
    ReminderStatus,
    StaffUser,
    TextsHeld,
    Voicemail,
    VoicemailStatus,
)
from ivr.outbox import UNDELIVERED
from ivr.staff import bp
from ivr.staff.audit import audit
from ivr.staff.texts import unmatched_texts

LIMIT = 100
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "open": tuple(OPEN_CALLBACK_STATUSES),
    **{status.value: (status.value,) for status in CallbackStatus},
    "all": tuple(CallbackStatus),
}
STATUS_LABELS = {"open": "Open (not completed or cancelled)", "all": "All"}


def attention(callback: Callback, now: datetime) -> list[str]:
    """Why an officer should look at this callback before anything else, if they should."""
    reasons = []
    if callback.texts_held == TextsHeld.NOT_SAFE:
        reasons.append("Not safe to talk: texts held")
    elif callback.texts_held == TextsHeld.REPLY:
        reasons.append("A reply to read: texts held")
    if callback.status == CallbackStatus.REARRANGE:
        reasons.append("Asked to rearrange by text")
    if any(r.status == ReminderStatus.UNKNOWN for r in callback.reminders):
        reasons.append("Not known whether a reminder text went")
    if any(r.status == ReminderStatus.FAILED or r.delivery_status in UNDELIVERED for r in callback.reminders):
        reasons.append("A reminder text failed")
    if callback.status in OPEN_CALLBACK_STATUSES and callback.window_end < now:
        reasons.append("Overdue")
    return reasons


def _flagged(query: Select) -> Select:
    troubled = select(Reminder.callback_id).where(or_(
        Reminder.status.in_((ReminderStatus.UNKNOWN, ReminderStatus.FAILED)),
        Reminder.delivery_status.in_(UNDELIVERED)))
    return query.where(Callback.status.in_(OPEN_CALLBACK_STATUSES),
                       or_(Callback.status == CallbackStatus.REARRANGE, Callback.texts_held.is_not(None),
                           Callback.id.in_(troubled)))


def _page(db: Session, query: Select) -> tuple[list[Callback], int]:
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.options(selectinload(Callback.reminders)).limit(LIMIT)).all()
    return list(rows), total


def _filters() -> tuple[dict, list[str]]:
    helpline = current_app.extensions["helpline"]
    args, errors = request.args, []
    chosen = {"region": args.get("region", ""), "status": args.get("status", "open"), "mine": args.get("mine", "")}
    if chosen["region"] and helpline.region(chosen["region"]) is None:
        errors.append(f"There is no region “{chosen['region']}”; choose one from the list.")
    if chosen["status"] not in STATUS_FILTERS:
        errors.append(f"There is no status “{chosen['status']}”; choose one from the list.")
    if chosen["mine"] not in ("", "1"):
        errors.append("'Assigned to me' is either ticked or not.")
    return chosen, errors


@bp.get("/")
def queue():
    chosen, errors = _filters()
    page = {"chosen": chosen, "errors": errors, "status_filters": STATUS_FILTERS, "status_labels": STATUS_LABELS}
    if errors:
        return render_template("staff/queue.html", **page), 400
    db, now = request_session(), current_time.now()
    base = select(Callback).where(Callback.status.in_(STATUS_FILTERS[chosen["status"]]))
    if chosen["region"]:
        base = base.where(Callback.region == chosen["region"])
    if chosen["mine"]:
        base = base.where(Callback.assigned_to_id == current_user.id)
    order = (Callback.window_start, Callback.id)
    sections = []
    if set(STATUS_FILTERS[chosen["status"]]) <= set(OPEN_CALLBACK_STATUSES):
        end_of_today = london_time(london(now).date() + timedelta(days=1), time(0))
        sections.append(("due", "Due today and overdue", *_page(db, base.where(Callback.window_start < end_of_today).order_by(*order))))
        sections.append(("upcoming", "Upcoming", *_page(db, base.where(Callback.window_start >= end_of_today).order_by(*order))))
        flagged, flagged_total = _page(db, _flagged(base).order_by(*order))
    else:
        sections.append(("callbacks", "Callbacks", *_page(db, base.order_by(Callback.window_start.desc(), Callback.id.desc()))))
        flagged, flagged_total = [], 0
    voicemail_query = select(Voicemail).where(Voicemail.status == VoicemailStatus.NEW)
    if chosen["region"]:
        voicemail_query = voicemail_query.where(Voicemail.region == chosen["region"])
    voicemails = db.scalars(voicemail_query.order_by(Voicemail.created_at, Voicemail.id).limit(LIMIT)).all()
    # They belong to no team and no officer, so every filter shows them.
    texts = db.scalars(unmatched_texts().limit(LIMIT)).all()

    shown = {c.id: c for _key, _title, rows, _total in sections for c in rows} | {c.id: c for c in flagged}
    replies: dict[int, list[InboundText]] = defaultdict(list)
    for text in db.scalars(select(InboundText).where(InboundText.callback_id.in_(shown))
                           .order_by(InboundText.received_at)):
        replies[text.callback_id].append(text)
    officer_ids = {c.assigned_to_id for c in shown.values() if c.assigned_to_id}
    officers = dict(db.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(officer_ids))).all())

    audit("view", "queue", detail=f"callbacks {sorted(shown)}; voicemails {[v.id for v in voicemails]}; "
                                  f"texts {[t.id for t in texts]}")
    db.commit()
    return render_template("staff/queue.html", **page, sections=sections, flagged=flagged,
                           flagged_total=flagged_total, voicemails=voicemails, texts=texts, replies=replies,
                           officers=officers, attention=attention, now=now, limit=LIMIT)
