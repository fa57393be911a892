"""One callback (/staff/callbacks/<id>): its history and what an officer can do with it; and
creating a callback by hand for a victim an officer spoke to (the same rules as the phone line)."""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ivr import callbacks, closures, current_time, outbox, reminders, wording
from ivr.callbacks import ATTEMPT_OUTCOMES, CallbackRefused, Slot
from ivr.db.sessions import request_session
from ivr.hours import london
from ivr.models import OPEN_CALLBACK_STATUSES, Callback, InboundText, NumberSource, StaffUser, TextsHeld, Voicemail
from ivr.phone import callable_number, for_staff, is_mobile
from ivr.staff import bp, texts
from ivr.staff.audit import audit, events_for
from ivr.staff.display import day_name, window_label
from ivr.staff.voicemails import note_callback_booked
from ivr.staff.forms import (
    ActionForm,
    AllowTextsForm,
    AttemptForm,
    CancelForm,
    NewCallbackForm,
    NoteForm,
    RescheduleForm,
)

# Officers may book further ahead than a caller's five-day menu.
STAFF_OFFERED_DAYS = 10
# Why a text still planned will not go (the clock's own rule, ivr.outbox.why_held).
HELD_REASONS = {
    outbox.Held.OPTED_OUT: "Will not be sent: this number replied STOP.",
    outbox.Held.NOT_EXPECTED: "Will not be sent: the callback is no longer waiting for our call at that time.",
    outbox.Held.TOO_LATE: "Will not be sent: too close to the window to help.",
    TextsHeld.NOT_SAFE: "Will not be sent: it was not safe to talk. An officer decides when texts may go again.",
    TextsHeld.REPLY: "Will not be sent until an officer has read their reply.",
}
NUMBER_SOURCES = {
    NumberSource.CALLER: "the line they called from",
    NumberSource.KEYED: "keyed in during the call: it may not be their own phone",
    NumberSource.STAFF: "given to an officer",
}


def no_texts_because(callback: Callback, opted_out: bool) -> str | None:
    """Why no reminder texts go about this callback, in words staff can act on; None when they may."""
    if opted_out:
        return "this number replied STOP (a START from it lets texts go again)"
    if not callback.is_mobile:
        return "the number is not a mobile"
    if not callback.texts_ok and callback.number_source == NumberSource.KEYED:
        return "the number was keyed in, not the line they called from; an officer who has spoken to them can turn texts on"
    if not callback.texts_ok:
        return "they did not ask for text reminders"
    if callback.texts_held:
        return HELD_REASONS[TextsHeld(callback.texts_held)].removeprefix("Will not be sent: ").rstrip(".")
    return None


def _held_text(callback: Callback, reason: outbox.Held) -> str:
    """What to say beside a text that would be held back, were it due now."""
    if reason is outbox.Held.HELD:
        return HELD_REASONS[TextsHeld(callback.texts_held)]
    return HELD_REASONS[reason]


def _callback_or_404(callback_id: int) -> Callback:
    callback = request_session().get(Callback, callback_id)
    if callback is None:
        abort(404)
    return callback


def _offer_windows(form: RescheduleForm, now: datetime) -> None:
    """Fill a form's day and window choices with what can still be booked."""
    helpline = current_app.extensions["helpline"]
    hours = closures.office_hours(request_session(), helpline, now)
    days = callbacks.offered_days(helpline, hours, now, count=STAFF_OFFERED_DAYS)
    form.day.choices = [SelectChoice("", "Choose a day"),
                        *(SelectChoice(day.isoformat(), day_name(day)) for day in days)]
    form.window.choices = [SelectChoice(w.id, window_label(w)) for w in helpline.callback_windows]


def _chosen_slot(form: RescheduleForm, now: datetime) -> Slot | None:
    """The slot the form asks for, if it is still open; otherwise an error on the form."""
    helpline = current_app.extensions["helpline"]
    day = date.fromisoformat(form.day.data)
    window = helpline.callback_window(form.window.data)
    for open_slot in callbacks.open_slots(helpline, day, now):
        if open_slot.window == window:
            return open_slot
    form.window.errors.append("That time has passed or is about to; choose a later one.")
    return None


def _render(callback: Callback, status: int = 200, text_form: texts.StaffTextForm | None = None, **forms):
    """The callback page; showing it to an officer is a view of the record, so it is audited."""
    db, now = request_session(), current_time.now()
    forms = {"attempt_form": AttemptForm(formdata=None), "reschedule_form": RescheduleForm(formdata=None),
             "note_form": NoteForm(formdata=None), "cancel_form": CancelForm(formdata=None),
             "action_form": ActionForm(formdata=None), "allow_texts_form": AllowTextsForm(formdata=None)} | forms
    _offer_windows(forms["reschedule_form"], now)
    replies = db.scalars(select(InboundText).where(InboundText.callback_id == callback.id)
                         .order_by(InboundText.received_at)).all()
    staff_ids = {e.staff_id for e in callback.events} | {callback.assigned_to_id, callback.created_by_id}
    officers = dict(db.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(staff_ids - {None})))
                    .all())
    audit("view", "callback", callback.id)
    db.commit()
    held = {reminder_id: _held_text(callback, reason)
            for reminder_id, reason in outbox.held_reminders(db, callback.id, now).items()}
    opted_out = reminders.is_opted_out(db, callback.phone_number)
    return render_template("staff/callback.html", callback=callback, replies=replies, officers=officers,
                           held=held, no_texts=no_texts_because(callback, opted_out), opted_out=opted_out,
                           number_source=NUMBER_SOURCES.get(callback.number_source, callback.number_source),
                           outcomes=ATTEMPT_OUTCOMES, is_open=callback.status in OPEN_CALLBACK_STATUSES,
                           audit_rows=events_for("callback", callback.id),
                           text_panel=texts.text_panel(callback=callback, number=callback.phone_number, form=text_form,
                                                       action=url_for("staff.text_back", callback_id=callback.id)),
                           **forms), status


@bp.get("/callbacks/<int:callback_id>")
def callback_page(callback_id: int):
    return _render(_callback_or_404(callback_id))


def _act(callback_id: int, form, form_name: str, change, done: str):
    """Validate `form`, make the change, audit it and go back to the page; on a problem show why."""
    callback = _callback_or_404(callback_id)
    now = current_time.now()
    if form_name == "reschedule_form":
        _offer_windows(form, now)
    if form.validate_on_submit():
        try:
            detail = change(callback, form, now)
        except CallbackRefused as refusal:
            form.form_errors.append(str(refusal))
        else:
            if detail is not False:
                audit("update", "callback", callback.id, detail)
                request_session().commit()
                flash(done, "success")
                return redirect(url_for("staff.callback_page", callback_id=callback.id), 303)
    request_session().rollback()
    return _render(callback, 400, **{form_name: form})


@bp.post("/callbacks/<int:callback_id>/texts")
def text_back(callback_id: int):
    """Text the victim: an approved reply or the officer's own words, sent by the clock."""
    callback = _callback_or_404(callback_id)
    form = texts.StaffTextForm()
    if texts.send_text(form, number=callback.phone_number, callback=callback, record_type="callback",
                       record_id=callback.id):
        return redirect(url_for("staff.callback_page", callback_id=callback.id, _anchor="conversation-heading"), 303)
    return _render(callback, 400, text_form=form)


@bp.post("/callbacks/<int:callback_id>/attempt")
def record_attempt(callback_id: int):
    def change(callback, form, now):
        callbacks.record_attempt(request_session(), callback, form.outcome.data, now=now,
                                 staff_id=current_user.id, detail=form.detail.data or "")
        return f"attempt: {form.outcome.data}"
    return _act(callback_id, AttemptForm(), "attempt_form", change, "The attempt is recorded.")


@bp.post("/callbacks/<int:callback_id>/reschedule")
def reschedule(callback_id: int):
    def change(callback, form, now):
        new_slot = _chosen_slot(form, now)
        if new_slot is None:
            return False
        callbacks.reschedule(request_session(), callback, new_slot, now=now, staff_id=current_user.id)
        return f"rescheduled to {wording.window(new_slot.starts, new_slot.ends, london(now).date())}"
    return _act(callback_id, RescheduleForm(), "reschedule_form", change,
                "The callback is rescheduled and its reminders replanned.")


@bp.post("/callbacks/<int:callback_id>/note")
def add_note(callback_id: int):
    def change(callback, form, now):
        callbacks.add_note(request_session(), callback, form.text.data, now=now, staff_id=current_user.id)
        return "note added"
    return _act(callback_id, NoteForm(), "note_form", change, "The note is added.")


@bp.post("/callbacks/<int:callback_id>/complete")
def complete(callback_id: int):
    def change(callback, form, now):
        callbacks.complete(request_session(), callback, now=now, staff_id=current_user.id)
        return "completed"
    return _act(callback_id, ActionForm(), "action_form", change, "The callback is marked complete.")


@bp.post("/callbacks/<int:callback_id>/cancel")
def cancel(callback_id: int):
    def change(callback, form, now):
        callbacks.cancel(request_session(), callback, now=now, staff_id=current_user.id, reason=form.reason.data or "")
        return "cancelled"
    return _act(callback_id, CancelForm(), "cancel_form", change, "The callback is cancelled.")


@bp.post("/callbacks/<int:callback_id>/replies-read")
def mark_replies_read(callback_id: int):
    def change(callback, form, now):
        callbacks.mark_replies_read(request_session(), callback, now=now, staff_id=current_user.id)
        return "replies read"
    return _act(callback_id, ActionForm(), "action_form", change, "The replies are marked read.")


@bp.post("/callbacks/<int:callback_id>/texts-resume")
def texts_may_resume(callback_id: int):
    def change(callback, form, now):
        callbacks.texts_may_resume(request_session(), callback, now=now, staff_id=current_user.id)
        return "texts may resume"
    return _act(callback_id, ActionForm(), "action_form", change, "Texts may go again; the reminders are replanned.")


@bp.post("/callbacks/<int:callback_id>/texts-allow")
def allow_texts(callback_id: int):
    def change(callback, form, now):
        callbacks.allow_texts(request_session(), callback, now=now, staff_id=current_user.id)
        return "texts turned on"
    return _act(callback_id, AllowTextsForm(), "allow_texts_form", change, "Text reminders are on for this number.")


@bp.post("/callbacks/<int:callback_id>/relay/<any(on, off):mark>")
def mark_relay(callback_id: int, mark: str):
    def change(callback, form, now):
        callbacks.set_via_relay(request_session(), callback, mark == "on", now=now, staff_id=current_user.id)
        return "call via Relay UK" if mark == "on" else "not via Relay UK"
    done = "Marked: call via Relay UK (18002)." if mark == "on" else "No longer to be called via Relay UK."
    return _act(callback_id, ActionForm(), "action_form", change, done)


@bp.app_template_filter("language_name")
def language_name(language_id: str) -> str:
    """The name staff read for a stored interpreter language ("pl": "Polish")."""
    language = current_app.extensions["prompts"].other_language(language_id)
    return language.name if language else language_id


@bp.post("/callbacks/<int:callback_id>/assign")
def assign_to_me(callback_id: int):
    def change(callback, form, now):
        callbacks.assign(request_session(), callback, now=now, staff_id=current_user.id)
        return "assigned to the officer"
    return _act(callback_id, ActionForm(), "action_form", change, "The callback is assigned to you.")


def _voicemail_asked() -> Voicemail | None:
    """The voicemail a callback is being booked from (`?voicemail=ID`), if any."""
    asked = request.args.get("voicemail", "")
    if not asked:
        return None
    voicemail = request_session().get(Voicemail, int(asked)) if asked.isascii() and asked.isdigit() else None
    if voicemail is None:
        abort(404)
    return voicemail


@bp.route("/callbacks/new", methods=["GET", "POST"])
def new_callback():
    """Book a callback by hand; from a voicemail (`?voicemail=ID`), with its number and team filled in."""
    helpline = current_app.extensions["helpline"]
    db, now = request_session(), current_time.now()
    voicemail = _voicemail_asked()
    form = NewCallbackForm()
    _offer_windows(form, now)
    form.region.choices = [SelectChoice("", "Choose the team"), *(SelectChoice(r.id, r.name) for r in helpline.regions)]
    if voicemail and not form.is_submitted():
        form.region.data = voicemail.region
        their_line = callable_number(voicemail.from_number)[0]
        form.phone_number.data = for_staff(their_line) if their_line else ""
    if form.validate_on_submit():
        number = callable_number(form.phone_number.data)[0]  # the form refused any other (forms.py)
        if form.texts_ok.data == "yes" and not is_mobile(number):
            form.texts_ok.errors.append("Text reminders can only go to a mobile number; choose No, or give a mobile number.")
        new_slot = _chosen_slot(form, now)
        if new_slot and not form.texts_ok.errors:
            # The line the message was left from is the caller's own, as when they book by phone.
            source = NumberSource.CALLER if voicemail and number == voicemail.from_number else NumberSource.STAFF
            booked = callbacks.book_callback(
                db, region=form.region.data, phone_number=number, number_source=source,
                is_mobile=is_mobile(number), starts=new_slot.starts, ends=new_slot.ends,
                voicemail_ok=form.voicemail_ok.data == "yes", texts_ok=form.texts_ok.data == "yes", now=now,
                created_by_id=current_user.id)
            callback_id = booked.callback_id
            if booked.already:  # a double click, or someone booked it first: one booking a window
                audit("view", "callback", callback_id, "already booked for that number and window")
                db.commit()
                flash("This number already has a callback at that time: here it is.", "info")
                return redirect(url_for("staff.callback_page", callback_id=callback_id), 303)
            if form.note.data and form.note.data.strip():
                callbacks.add_note(db, db.get(Callback, callback_id), form.note.data, now=now, staff_id=current_user.id)
            if voicemail:
                note_callback_booked(db, voicemail, callback_id, now=now, staff_id=current_user.id)
                audit("update", "voicemail", voicemail.id, f"callback {callback_id} booked from it; marked actioned")
            audit("create", "callback", callback_id, f"from voicemail {voicemail.id}" if voicemail else "by hand")
            db.commit()
            flash("The callback is booked." + (" The voicemail is marked actioned." if voicemail else ""), "success")
            return redirect(url_for("staff.callback_page", callback_id=callback_id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("staff/new_callback.html", form=form, voicemail=voicemail), status
