"""Twilio's request signature: every webhook proves it came from Twilio before it is read."""

from __future__ import annotations

import hmac
from functools import wraps
from urllib.parse import quote

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_URL + path + query, never what a proxy claims the host is."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    url = base + quote(request.script_root + request.path, safe="/:@!$&'()*+,;=-._~%")
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signed_by_twilio(token: str, signature: str) -> bool:
    """Whether `signature` is Twilio's for this request.

    The URL exactly as Twilio signs it (PUBLIC_URL's form) is tried first: one HMAC, where the
    library's `validate` always computes two (the URL with and without a port). A request that
    does not match that way still gets the library's full check.
    """
    if not signature:
        return False
    validator, url = RequestValidator(token), signed_url()
    if "bodySHA256" not in request.args:  # a JSON body signed by its hash: only `validate` checks that
        if hmac.compare_digest(validator.compute_signature(url, request.form), signature):
            return True
    return validator.validate(url, request.form, signature)


def twilio_webhook(view):
    """Reject a request whose X-Twilio-Signature does not match (403), when a token is configured."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_app.config.get("TWILIO_AUTH_TOKEN")
        if token and not signed_by_twilio(token, request.headers.get("X-Twilio-Signature", "")):
            abort(403, description="The request's Twilio signature is missing or wrong.")
        return view(*args, **kwargs)

    return checked
