"""Voicemails: the list, one message, listening through the app (the recording is fetched from
Twilio with the account's credentials and streamed as audio/mpeg; its Twilio URL never reaches the
browser), marking listened or actioned, and deleting (on Twilio too; the row stays, marked deleted).

Playing is a GET, so it changes nothing about the message (a browser may fetch it ahead, or twice);
it is only audited. An officer marks a message listened with the page's button (a POST)."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from sqlalchemy import select

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.gateway import RecordingUnavailable
from ivr.models import Voicemail, VoicemailStatus
from ivr.staff import bp
from ivr.staff.audit import audit, events_for
from ivr.staff.forms import ActionForm

LIMIT = 200
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
    status = request.args.get("status", "waiting")
    if status not in STATUS_FILTERS:
        return render_template("staff/voicemails.html", voicemails=[], status=status, labels=STATUS_LABELS,
                               errors=[f"There is no status “{status}”; choose one from the list."]), 400
    db = request_session()
    voicemails = db.scalars(select(Voicemail).where(Voicemail.status.in_(STATUS_FILTERS[status]))
                            .order_by(Voicemail.created_at, Voicemail.id).limit(LIMIT)).all()
    audit("view", "voicemails", detail=f"voicemails {[v.id for v in voicemails]}")
    db.commit()
    return render_template("staff/voicemails.html", voicemails=voicemails, status=status, labels=STATUS_LABELS,
                           errors=[], limit=LIMIT)


@bp.get("/voicemails/<int:voicemail_id>")
def voicemail_page(voicemail_id: int):
    voicemail = _voicemail_or_404(voicemail_id)
    audit("view", "voicemail", voicemail.id)
    request_session().commit()
    return render_template("staff/voicemail.html", voicemail=voicemail, form=ActionForm(),
                           audit_rows=events_for("voicemail", voicemail.id))


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
