"""Texts that match no callback: a reply from a number with no open callback, or a message that
was never a reply. The queue shows them until an officer marks them handled; replies that did
match a callback show on that callback instead.

And texting back (ivr.staff_texts): the conversation and the reply form, on a callback's page
(templates/staff/_callback_texts.html) and on a stray text's own page."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ivr import current_time, outbox, staff_texts
from ivr.db.sessions import request_session
from ivr.hours import in_quiet_hours
from ivr.models import Callback, InboundText, TextsHeld
from ivr.reminders import is_opted_out
from ivr.staff import bp
from ivr.staff.audit import audit
from ivr.staff.display import when


def unmatched_texts() -> Select:
    """Texts for staff that no callback holds and nothing has handled (an anonymised one has nothing left to read)."""
    return (select(InboundText)
            .where(InboundText.callback_id.is_(None), InboundText.handled_at.is_(None),
                   InboundText.anonymised_at.is_(None))
            .order_by(InboundText.received_at, InboundText.id))


@bp.post("/texts/<int:text_id>/handled")
def mark_text_handled(text_id: int):
    db = request_session()
    text = db.get(InboundText, text_id)
    if text is None:
        abort(404)
    if text.handled_at is None:
        text.handled_at = current_time.now()
        audit("update", "text", text.id, "marked handled")
        db.commit()
    flash("The text is marked handled.", "success")
    return redirect(url_for("staff.queue"), 303)


# --- texting back -------------------------------------------------------------------------------

OWN_WORDS = "own"


class StaffTextForm(FlaskForm):
    """An approved reply, or the officer's own words; the key makes a double submit one text."""

    reply = RadioField("Text to send", validators=[InputRequired("Choose a reply, or write your own.")])
    own = TextAreaField("Your own words (one text: up to 160 plain characters, no names, nothing that says who we are)",
                        [Optional(), Length(max=1000)])
    key = HiddenField(validators=[InputRequired("The form was not complete: reload the page and try again."),
                                  Length(max=64)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reply.choices = [SelectChoice(a.key, a.words) for a in staff_texts.approved_replies()] + \
            [SelectChoice(OWN_WORDS, "Write my own")]
        if not self.is_submitted():
            self.key.data = secrets.token_urlsafe(24)

    def words(self) -> str:
        if self.reply.data == OWN_WORDS:
            return self.own.data or ""
        return {a.key: a.words for a in staff_texts.approved_replies()}.get(self.reply.data, "")


def text_panel(*, callback: Callback | None = None, number: str, action: str,
               form: StaffTextForm | None = None) -> dict:
    """What templates/staff/_callback_texts.html shows: the conversation, and the form if a text may go."""
    db, now = request_session(), current_time.now()
    cannot = staff_texts.why_not_to(db, number, callback)
    if cannot is None and is_opted_out(db, number):
        cannot = staff_texts.HELD_REASONS[outbox.Held.OPTED_OUT]
    if cannot is None and callback is not None and callback.texts_held == TextsHeld.NOT_SAFE:
        cannot = staff_texts.HELD_REASONS[outbox.Held.HELD]
    return {"lines": staff_texts.thread(db, now, callback=callback, number=number if callback is None else None),
            "form": form or StaffTextForm(formdata=None), "action": action, "cannot": cannot,
            "quiet_now": in_quiet_hours(now)}


def send_text(form: StaffTextForm, *, number: str, callback: Callback | None, record_type: str, record_id: int) -> bool:
    """Queue the officer's text from a submitted form; False (with the reason on the form) when it may not go."""
    if not form.validate_on_submit():
        return False
    db, now = request_session(), current_time.now()
    try:
        queued = staff_texts.queue_text(db, number=number, body=form.words(), callback=callback,
                                        staff_id=current_user.id, request_key=form.key.data, now=now)
    except staff_texts.TextRefused as refusal:
        db.rollback()
        (form.own if form.reply.data == OWN_WORDS else form.reply).errors.append(str(refusal))
        return False
    if queued.already:
        flash("That text was already sent once; it is not sent again.", "info")
        return True
    audit("update", record_type, record_id,
          f"text queued ({'own words' if form.reply.data == OWN_WORDS else 'approved reply'})")
    db.commit()
    if queued.waits_for_morning(now):
        flash(f"No texts go between 8pm and 8am, so this one waits: it goes at {when(queued.due_at)}.", "info")
    else:
        flash("The text is on its way; its delivery shows in the conversation.", "success")
    return True


@bp.get("/texts/<int:text_id>")
def text_thread(text_id: int):
    """A text that matched no callback, with the conversation with its number and a reply form."""
    return _text_page(text_id)


@bp.post("/texts/<int:text_id>/reply")
def reply_to_text(text_id: int):
    text = _text_or_404(text_id)
    form = StaffTextForm()
    if send_text(form, number=text.from_number, callback=None, record_type="text", record_id=text.id):
        return redirect(url_for("staff.text_thread", text_id=text.id), 303)
    return _text_page(text_id, form, 400)


def _text_or_404(text_id: int) -> InboundText:
    text = request_session().get(InboundText, text_id)
    if text is None or text.anonymised_at is not None or text.callback_id is not None:
        abort(404)
    return text


def _text_page(text_id: int, form: StaffTextForm | None = None, status: int = 200):
    text = _text_or_404(text_id)
    audit("view", "text", text.id)
    request_session().commit()
    panel = text_panel(number=text.from_number, action=url_for("staff.reply_to_text", text_id=text.id), form=form)
    return render_template("staff/text.html", text=text, text_panel=panel), status
