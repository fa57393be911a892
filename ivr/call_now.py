"""Placing a call for a callback: the attempt is stored, then Twilio rings the officer's phone.

Used by the staff page's "Call now" and the terminal phone (`flask --app ivr call --outbound`);
what happens once the officer answers is ivr/voice/outbound.py.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, url_for

from ivr import current_time, outbound
from ivr.db.sessions import request_session
from ivr.gateway import CallNotPlaced
from ivr.models import CallAttempt, Callback, CallResult, StaffUser
from ivr.phone import mask

log = logging.getLogger(__name__)

# How long the officer's phone rings before the attempt counts as not started.
OFFICER_RING_SECONDS = 25


def twilio_url(endpoint: str, **values: Any) -> str:
    """An address Twilio can reach: PUBLIC_URL (which signatures are checked against) and the path."""
    base = current_app.config.get("PUBLIC_URL")
    return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True, **values)


def place(callback: Callback, officer: StaffUser, *, override_window: bool) -> CallAttempt:
    """Ring the officer, for them to start the call to the victim; the attempt. Raises
    outbound.CallRefused (nothing placed) or CallNotPlaced (Twilio would not take it: recorded).

    The attempt is committed before Twilio is asked, so a second click, on any worker, finds it."""
    db, gateway = request_session(), current_app.extensions["gateway"]
    attempt = outbound.open_attempt(db, callback, officer, current_time.now(), override_window=override_window,
                                    simulated=gateway.simulated)
    db.commit()
    try:
        sid = gateway.place_call(officer.work_number, twilio_url("voice.outbound_officer", attempt=attempt.id),
                                 twilio_url("voice.outbound_status", attempt=attempt.id, leg="officer"),
                                 OFFICER_RING_SECONDS)
    except CallNotPlaced as error:
        log.warning("call attempt %s for callback %s not placed: %s", attempt.id, callback.id, error)
        moment = current_time.now()
        outbound.record_result(db, attempt, CallResult.FAILED, moment)
        outbound.end_attempt(db, attempt, moment)
        db.commit()
        raise
    outbound.officer_rung(db, attempt, sid)
    db.commit()
    log.info("call attempt %s for callback %s: ringing the officer on %s", attempt.id, callback.id,
             mask(officer.work_number))
    return attempt
