"""Twilio messaging webhooks: replies to reminder texts, and delivery statuses of ours.

Both are signature-checked and safe to receive twice. A request without what Twilio always
sends is answered 400 with the reason, never 500.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from twilio.twiml.messaging_response import MessagingResponse

from ivr import outbox, replies
from ivr.current_time import now
from ivr.db.sessions import request_session
from ivr.gateway import failure_for
from ivr.twilio_auth import twilio_webhook

bp = Blueprint("sms", __name__, url_prefix="/sms")


def _required(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        abort(400, description=f"{name} is missing.")
    return value


def _error_code() -> int | None:
    raw = request.form.get("ErrorCode", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        abort(400, description="ErrorCode is not a number.")
    return int(raw)


@bp.post("/incoming")
@twilio_webhook
def incoming() -> Response:
    """A text to the helpline number: act on its keyword and perhaps answer it."""
    session = request_session()
    answer = replies.receive_text(session, message_sid=_required("MessageSid"), from_number=_required("From"),
                                  body=request.form.get("Body", ""), now=now())
    session.commit()
    twiml = MessagingResponse()
    if answer:
        twiml.message(answer)
    return Response(str(twiml), mimetype="text/xml")


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """Twilio's report on one of our texts: stored, never moving backwards."""
    message_sid = _required("MessageSid")
    message_status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip().lower()
    if message_status not in outbox.DELIVERY_ORDER:
        abort(400, description="MessageStatus is missing or not one Twilio sends.")
    error_code = _error_code()
    session = request_session()
    outbox.record_delivery(session, message_sid, message_status, error_code, failure_for(error_code), now())
    session.commit()
    return Response(status=204)
