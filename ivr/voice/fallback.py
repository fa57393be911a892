"""When something goes wrong the caller still gets help: Twilio's Fallback URL and our error handlers.

Nothing here touches the database, which may be the thing that failed: the office hours are the
plain weekly ones (no closures), and the general line and the message box are always offered.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr import spool
from ivr.twilio_params import whole_number
from ivr.voice import bp
from ivr.voice.kit import (
    call_sid,
    caller,
    current_region,
    dial,
    form,
    goodbye,
    hang_up,
    helpline,
    now,
    speak,
    step,
    take_message,
    twilio_sid,
)

log = logging.getLogger(__name__)


@step("/fallback")
def fallback() -> str:
    return sorry()


def sorry() -> str:
    """Apologise, then put the caller through to the general line in hours, else take a message."""
    dial_status = form("DialCallStatus", 16)
    if dial_status == "completed":
        return goodbye()
    if form("RecordingSid"):  # saving their message is what failed: keep it on disk, don't ask again
        return goodbye("message_saved") if spool_message() else str(hang_up(speak(VoiceResponse(), "sorry"), "message_lost"))
    response = speak(VoiceResponse(), "nobody_answered" if dial_status else "sorry")
    speak(response, "danger")
    general = helpline().default_region
    if not dial_status and helpline().office_hours().is_open(now()):
        speak(response, "put_through_after_misses")
        return str(dial(response, general, url_for("voice.fallback")))
    return str(take_message(response, general))


def spool_message() -> bool:
    """Keep the message just recorded in the spool, to be stored when the database answers."""
    recording_sid, url = twilio_sid("RecordingSid"), form("RecordingUrl", 500)
    return recording_sid is not None and spool.keep_message(
        current_app, recording_sid=recording_sid, recording_url=url if url.startswith("https://") else None,
        duration=whole_number("RecordingDuration", 6) or 0, region=current_region().id,
        call_sid=call_sid(), from_number=caller(), now=now())


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    if error.code == 403:  # a request that is not Twilio's gets nothing but the refusal
        return error
    return _apologise(error)


@bp.errorhandler(Exception)
def unexpected_error(error: Exception):
    return _apologise(error)


def _apologise(error: Exception) -> Response:
    # Database errors carry the statement's parameters (callers' numbers): log the kind only.
    log.error("voice step %s failed for call %s: %s", request.endpoint, form("CallSid"), type(error).__name__,
              exc_info=not isinstance(error, SQLAlchemyError | HTTPException))
    return Response(sorry(), mimetype="text/xml")
