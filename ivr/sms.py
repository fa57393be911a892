"""Twilio messaging webhooks: replies to reminder texts, and delivery statuses of ours.

Both are signature-checked and safe to receive twice. A request without what Twilio always
sends, or with something Twilio never sends (a NUL byte, an identifier or number too long), is
answered 400 with the reason, never 500. A text that arrives while the database is down or
stalled is kept in the spool and stored when it answers: Twilio does not send it again.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from ivr import outbox, replies, spool, twilio_params
from ivr.current_time import now
from ivr.db.sessions import request_session
from ivr.gateway import failure_for
from ivr.twilio_auth import twilio_webhook

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")


def _sid(name: str) -> str:
    value = twilio_params.sid(name)
    if value is None:
        abort(400, description=f"{name} is missing or is not a Twilio identifier.")
    return value


def _sender() -> str:
    value = twilio_params.field("From", 33).strip()
    if not value or len(value) > 32 or not value.isprintable():
        abort(400, description="From is missing or is not a phone number.")
    return value


def _error_code() -> int | None:
    if not request.form.get("ErrorCode", "").strip():
        return None
    code = twilio_params.whole_number("ErrorCode", 6)
    if code is None:
        abort(400, description="ErrorCode is not a number.")
    return code


@bp.post("/incoming")
@twilio_webhook
def incoming() -> Response:
    """A text to the helpline number: act on its keyword and perhaps answer it, or keep it for later."""
    text = {"message_sid": _sid("MessageSid"), "from_number": _sender(), "body": twilio_params.text("Body"),
            "now": now()}
    twiml = MessagingResponse()
    try:
        session = request_session()
        answer = replies.receive_text(session, **text)
        session.commit()
    except SQLAlchemyError as error:
        # Down, stalled or refusing: keep the text for the clock to store, and tell Twilio it arrived.
        log.error("text %s could not be stored now: %s", text["message_sid"], type(error).__name__)
        if not spool.keep_text(current_app, **text):
            raise
        answer = None  # acted on when it is stored; no answer goes now
    if answer:
        twiml.message(answer)
    return Response(str(twiml), mimetype="text/xml")


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """Twilio's report on one of our texts: stored, never moving backwards."""
    message_sid = _sid("MessageSid")
    message_status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip().lower()
    if message_status not in outbox.DELIVERY_ORDER:
        abort(400, description="MessageStatus is missing or not one Twilio sends.")
    error_code = _error_code()
    session = request_session()
    outbox.record_delivery(session, message_sid, message_status, error_code, failure_for(error_code), now())
    session.commit()
    return Response(status=204)
