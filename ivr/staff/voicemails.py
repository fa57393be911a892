"""Voicemails: the list, one message, listening through the app (the recording is fetched from
Twilio with the account's credentials and streamed as audio/mpeg; its Twilio URL never reaches the
browser), marking listened or actioned, and deleting (on Twilio too; the row stays, marked deleted).
A message is a piece of work: officers add notes to its history, and book a callback from it (the
"New callback" form, filled in with its number and team), which marks it actioned.

Playing is a GET, so it changes nothing about the message (a browser may fetch it ahead, or twice);
it is only audited. An officer marks a message listened with the page's button (a POST)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.gateway import RecordingUnavailable
from ivr.models import StaffUser, Voicemail, VoicemailEvent, VoicemailEventKind, VoicemailStatus
from ivr.staff import bp
from ivr.staff.audit import audit, events_for
from ivr.staff.forms import ActionForm, NoteForm
from ivr.staff.paging import page_number, page_of
STATUS_FILTERS = {
    "waiting": (VoicemailStatus.NEW, VoicemailStatus.LISTENED),
    **{status.value: (status,) for status in VoicemailStatus},
}
STATUS_LABELS = {"waiting": "New or listened", "new": "New", "listened": "Listened", "actioned": "Actioned",
                 "deleted": "Deleted"}


def _voicemail_or_404(voicemail_id: int) -> Voicemail:
    voicemail = request_session().get(Voicemail, voicemail_id)
    if voicemail is None:
        abort(404)
    return voicemail


@bp.get("/voicemails")
def voicemail_list():
    status, errors = request.args.get("status", "waiting"), []
    if status not in STATUS_FILTERS:
        errors.append(f"There is no status “{status}”; choose one from the list.")
    number = page_number("page", errors)
    if errors:
        return render_template("staff/voicemails.html", voicemails=None, status=status, labels=STATUS_LABELS,
                               errors=errors), 400
    db = request_session()
    voicemails = page_of(db, select(Voicemail).where(Voicemail.status.in_(STATUS_FILTERS[status]))
                         .order_by(Voicemail.created_at, Voicemail.id), "page", number)
    audit("view", "voicemails", detail=f"voicemails {[v.id for v in voicemails.rows]}")
    db.commit()
    return render_template("staff/voicemails.html", voicemails=voicemails, status=status, labels=STATUS_LABELS,
                           errors=[])


def note_callback_booked(session: Session, voicemail: Voicemail, callback_id: int, *, now: datetime,
                         staff_id: int) -> None:
    """A callback was booked from the message: its history says so, and it is marked actioned."""
    session.add(VoicemailEvent(voicemail_id=voicemail.id, at=now, kind=VoicemailEventKind.CALLBACK_BOOKED,
                               callback_id=callback_id, staff_id=staff_id))
    if voicemail.status in (VoicemailStatus.NEW, VoicemailStatus.LISTENED):
        voicemail.status = VoicemailStatus.ACTIONED


def _render(voicemail: Voicemail, status: int = 200, note_form: NoteForm | None = None):
    """The voicemail's page; showing it to an officer is a view of the record, so it is audited."""
    db = request_session()
    audit("view", "voicemail", voicemail.id)
    db.commit()
    history = db.execute(select(VoicemailEvent, StaffUser.email)
                         .outerjoin(StaffUser, VoicemailEvent.staff_id == StaffUser.id)
                         .where(VoicemailEvent.voicemail_id == voicemail.id)
                         .order_by(VoicemailEvent.at.desc(), VoicemailEvent.id.desc())).all()
    return render_template("staff/voicemail.html", voicemail=voicemail, form=ActionForm(formdata=None),
                           note_form=note_form or NoteForm(formdata=None), history=history,
                           audit_rows=events_for("voicemail", voicemail.id)), status


@bp.get("/voicemails/<int:voicemail_id>")
def voicemail_page(voicemail_id: int):
    return _render(_voicemail_or_404(voicemail_id))


@bp.post("/voicemails/<int:voicemail_id>/note")
def add_voicemail_note(voicemail_id: int):
    voicemail = _voicemail_or_404(voicemail_id)
    form = NoteForm()
    if not form.validate_on_submit() or not form.text.data.strip():
        if not form.text.errors:
            form.text.errors.append("Write the note first.")
        return _render(voicemail, 400, note_form=form)
    db = request_session()
    db.add(VoicemailEvent(voicemail_id=voicemail.id, at=current_time.now(), kind=VoicemailEventKind.NOTE,
                          detail=form.text.data.strip(), staff_id=current_user.id))
    audit("update", "voicemail", voicemail.id, "note added")
    db.commit()
    flash("The note is added.", "success")
    return redirect(url_for("staff.voicemail_page", voicemail_id=voicemail.id, _anchor="history-heading"), 303)


@bp.get("/voicemails/<int:voicemail_id>/audio")
def voicemail_audio(voicemail_id: int):
    db = request_session()
    voicemail = _voicemail_or_404(voicemail_id)
    if voicemail.status == VoicemailStatus.DELETED:
        return _unplayable("This message has been deleted, so it cannot be played.")
    try:
        recording = current_app.extensions["gateway"].open_recording(voicemail.recording_sid)
    except RecordingUnavailable as error:
        return _unplayable(f"The recording could not be fetched from Twilio ({error}). Try again later.")
    audit("play", "voicemail", voicemail.id)
    db.commit()
    return Response(stream_with_context(recording.chunks), content_type=recording.content_type,
                    headers={"Content-Disposition": f'inline; filename="voicemail-{voicemail.id}.mp3"'})


def _unplayable(message: str):
    return render_template("staff/error.html", title="The message cannot be played", message=message), 404


@bp.post("/voicemails/<int:voicemail_id>/<any(listened, actioned):status>")
def mark_voicemail(voicemail_id: int, status: str):
    voicemail = _voicemail_or_404(voicemail_id)
    if voicemail.status == VoicemailStatus.DELETED:
        flash("This message has been deleted.", "error")
    else:
        voicemail.status = status
        if status == VoicemailStatus.LISTENED and voicemail.listened_at is None:
            voicemail.listened_at = current_time.now()
        audit("update", "voicemail", voicemail.id, f"marked {status}")
        request_session().commit()
        flash(f"The message is marked {status}.", "success")
    return redirect(url_for("staff.voicemail_page", voicemail_id=voicemail.id), 303)


@bp.post("/voicemails/<int:voicemail_id>/delete")
def delete_voicemail(voicemail_id: int):
    voicemail = _voicemail_or_404(voicemail_id)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm that the recording should be deleted for good.", "error")
        return redirect(url_for("staff.voicemail_page", voicemail_id=voicemail.id), 303)
    if voicemail.status != VoicemailStatus.DELETED:
        if not current_app.extensions["gateway"].delete_recording(voicemail.recording_sid):
            flash("Twilio could not delete the recording just now, so nothing was changed. Try again later.", "error")
            return redirect(url_for("staff.voicemail_page", voicemail_id=voicemail.id), 303)
        now = current_time.now()
        voicemail.status = VoicemailStatus.DELETED
        voicemail.recording_deleted_at = now
        voicemail.recording_url = None
        audit("delete", "voicemail", voicemail.id)
        request_session().commit()
    flash("The recording is deleted, here and on Twilio.", "success")
    return redirect(url_for("staff.voicemail_list"), 303)
