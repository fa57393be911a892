"""Twilio's request signature: every webhook proves it came from Twilio before it is read."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from ivr.logs import security_event


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_URL + path + query, never what a proxy claims the host is."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    url = base + quote(request.script_root + request.path, safe="/:@!$&'()*+,;=-._~%")
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def twilio_webhook(view):
    """Reject a request whose X-Twilio-Signature does not match (403), when a token is configured."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_app.config.get("TWILIO_AUTH_TOKEN")
        signature = request.headers.get("X-Twilio-Signature", "")
        if token and not RequestValidator(token).validate(signed_url(), request.form, signature):
            # The route's name, never what was posted: a forged request is someone else's text.
            security_event("twilio_signature_refused", endpoint=request.endpoint,
                           signature="wrong" if signature else "missing")
            abort(403, description="The request's Twilio signature is missing or wrong.")
        return view(*args, **kwargs)

    return checked
