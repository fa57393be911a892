"""Calling a victim back through the service: "Call now" on a callback's page (and on a voicemail
that left a number we call), the call in progress and every attempt's result there (a refresh
shows the latest), and each officer's work number, which the service rings first."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from flask_wtf import FlaskForm

from ivr import callbacks, current_time, outbound
from ivr.db.sessions import request_session
from ivr.gateway import CallNotPlaced
from ivr.hours import london
from ivr.models import Callback, NumberSource, StaffUser, Voicemail
from ivr.phone import callable_number, is_mobile, last_digits, mask
from ivr.staff import bp
from ivr.staff.audit import audit
from ivr.staff.forms import NUMBER_EXAMPLES, REFUSED_NUMBERS
from ivr.staff.security import admin_required
from ivr.staff.voicemails import note_callback_booked
from ivr.call_now import place


class CallNowForm(FlaskForm):
    outside_window = BooleanField("It is outside the time they chose, and I am sure they would want the call now")


class WorkNumberForm(FlaskForm):
    work_number = StringField("Work number", [InputRequired("Enter the number of the phone you work from."),
                                              Length(max=32)],
                              description=f"The phone the service rings first when you press “Call now”: a UK "
                                          f"mobile or landline, e.g. {NUMBER_EXAMPLES}.",
                              render_kw={"autocomplete": "off", "inputmode": "tel"})

    def validate_work_number(self, field: StringField) -> None:
        """The service calls it: the same rule as every number it calls (ivr.phone.callable_number)."""
        refused = callable_number(field.data)[1]
        if refused is not None:
            raise ValidationError(REFUSED_NUMBERS[refused])


def _officer() -> StaffUser:
    return request_session().get(StaffUser, current_user.id)


@bp.app_template_global()
def call_panel(callback: Callback) -> dict:
    """What templates/staff/_callback_call.html shows: whether "Call now" may be pressed (and why
    not), the call under way, and every attempt so far."""
    db, now = request_session(), current_time.now()
    refusal = outbound.why_not_call(db, callback, _officer(), now)
    attempts = outbound.attempts_of(db, callback.id)
    unreached = sum(1 for attempt in attempts if attempt.result in outbound.UNREACHED)
    officers = dict(db.query(StaffUser.id, StaffUser.email)
                    .filter(StaffUser.id.in_({a.staff_id for a in attempts})).all()) if attempts else {}
    work_number = _officer().work_number
    return {"refusal": refusal, "form": CallNowForm(formdata=None), "attempts": attempts,
            "work_number_ending": last_digits(work_number) if work_number else None,
            "live": next((a for a in attempts if a.ended_at is None), None), "officers": officers,
            "results": outbound.RESULTS, "unreached": unreached,
            "max_attempts": current_app.config["CALLBACK_MAX_ATTEMPTS"],
            "simulated": current_app.extensions["gateway"].simulated}


@bp.post("/callbacks/<int:callback_id>/call")
def call_now(callback_id: int):
    """Ring the officer's phone, for them to start the call to the victim from the helpline's number."""
    db = request_session()
    callback = db.get(Callback, callback_id)
    if callback is None:
        abort(404)
    form = CallNowForm()
    back = redirect(url_for("staff.callback_page", callback_id=callback.id, _anchor="call-heading"), 303)
    if not form.validate_on_submit():
        flash("The form had expired; press “Call now” again.", "error")
        return back
    _place_and_say(callback, bool(form.outside_window.data))
    return back


def _place_and_say(callback: Callback, override_window: bool) -> None:
    """Place the call, and flash what the officer should do next (or why nothing was placed)."""
    officer = _officer()
    try:
        attempt = place(callback, officer, override_window=override_window)
    except outbound.CallRefused as refused:
        request_session().rollback()
        flash(f"Not called: {refused.refusal.words}", "error")
        return
    except CallNotPlaced:
        flash("The call could not be placed: Twilio did not take it. It is recorded below; try again in a "
              "moment.", "error")
        return
    if attempt.simulated:
        flash(f"No Twilio account is set up, so nothing was dialled. Play both ends of this call in a "
              f"terminal: flask --app ivr call --outbound {callback.id}", "info")
    else:
        flash(f"Your phone (ending {last_digits(officer.work_number)}) is ringing. Answer it and press 1 to call "
              "them. Refresh this page to see how the call goes.", "success")


# --- from a voicemail -----------------------------------------------------------------------------


def window_now(now) -> callbacks.Slot | None:
    """The callback window we are in now (today's morning or afternoon), if any."""
    helpline = current_app.extensions["helpline"]
    today = london(now).date()
    return next((s for w in helpline.callback_windows if (s := callbacks.slot(today, w)).starts <= now < s.ends), None)


@bp.app_template_global()
def voicemail_call_refused(voicemail: Voicemail) -> str | None:
    """Why "Call now" is not offered on this voicemail; None when it is."""
    if callable_number(voicemail.from_number)[0] is None:
        return ("The message came from a withheld number, or one the service does not call: listen for the "
                "number they gave, and book a callback.")
    if window_now(current_time.now()) is None:
        return "It is outside the callback windows: book a callback for a time that suits them."
    return None


@bp.post("/voicemails/<int:voicemail_id>/call")
def call_voicemail(voicemail_id: int):
    """Call back the person who left a message, now: a callback for the window we are in (no
    voicemail and no texts: they have said neither is safe), booked from the message, then "Call now"."""
    db, now = request_session(), current_time.now()
    voicemail = db.get(Voicemail, voicemail_id)
    if voicemail is None:
        abort(404)
    page = redirect(url_for("staff.voicemail_page", voicemail_id=voicemail.id), 303)
    if not CallNowForm().validate_on_submit():
        flash("The form had expired; press “Call now” again.", "error")
        return page
    if (refused := voicemail_call_refused(voicemail)) is not None:
        flash(f"Not called: {refused}", "error")
        return page
    number, window = callable_number(voicemail.from_number)[0], window_now(now)
    booked = callbacks.book_callback(
        db, region=voicemail.region, phone_number=number, number_source=NumberSource.CALLER,
        is_mobile=is_mobile(number), starts=window.starts, ends=window.ends, voicemail_ok=False, texts_ok=False,
        now=now, created_by_id=current_user.id)
    if not booked.already:
        note_callback_booked(db, voicemail, booked.callback_id, now=now, staff_id=current_user.id)
        audit("update", "voicemail", voicemail.id, f"callback {booked.callback_id} booked from it to call now")
        audit("create", "callback", booked.callback_id, f"from voicemail {voicemail.id}, to call now")
    db.commit()
    callback = db.get(Callback, booked.callback_id)
    _place_and_say(callback, override_window=False)
    return redirect(url_for("staff.callback_page", callback_id=callback.id, _anchor="call-heading"), 303)


def _work_number_page(user: StaffUser, form: WorkNumberForm, action: str, status: int = 200):
    return render_template("staff/work_number.html", user=user, form=form, action=action,
                           own=user.id == current_user.id), status


def _save_work_number(user: StaffUser, form: WorkNumberForm, action: str, done):
    if form.validate_on_submit():
        user.work_number = callable_number(form.work_number.data)[0]
        # Whose number changed, never the number itself.
        audit("update", "staff", user.id, "work number changed")
        request_session().commit()
        current_app.logger.info("work number of staff %s set to %s", user.id, mask(user.work_number))
        flash("The work number is saved.", "success")
        return done
    status = 400 if form.is_submitted() else 200
    return _work_number_page(user, form, action, status)


@bp.route("/work-number", methods=["GET", "POST"])
def work_number():
    """An officer's own work number."""
    user = _officer()
    form = WorkNumberForm(data={"work_number": user.work_number or ""})
    return _save_work_number(user, form, url_for("staff.work_number"), redirect(url_for("staff.work_number"), 303))


@bp.route("/admin/accounts/<int:user_id>/work-number", methods=["GET", "POST"])
@admin_required
def account_work_number(user_id: int):
    """An administrator sets an officer's work number."""
    user = request_session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    form = WorkNumberForm(data={"work_number": user.work_number or ""})
    return _save_work_number(user, form, url_for("staff.account_work_number", user_id=user.id),
                             redirect(url_for("staff.staff_accounts"), 303))

