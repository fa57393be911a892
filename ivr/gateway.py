"""The one object that talks to Twilio's REST API: sending texts, placing calls, fetching and
deleting recordings.

Built once in the factory and kept at `app.extensions["gateway"]`. Without credentials it is a
`SimulatedGateway`: nothing leaves the machine, texts are recorded as simulated and logged with
the number masked. Tests may hand in their own object as `test_config["GATEWAY"]`.

`send_text` returns the message sid or raises `SendFailed`, whose `failure` says what the clock
may do next (`ivr.outbox.Failure`): a refusal we can retry, an answer that leaves it unknown
whether the text went, or a permanent refusal. `failure_for` reads Twilio's error codes, here and
in delivery reports; nothing else in the service knows them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import requests
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from urllib3.exceptions import NewConnectionError

from ivr.outbox import Failure
from ivr.phone import mask

log = logging.getLogger(__name__)

AUDIO_CHUNK = 64 * 1024


# Twilio's error codes (https://www.twilio.com/docs/api/errors) that are not plain refusals.
RETRY_ONCE_CODES = frozenset({30003})  # unreachable handset
TEMPORARY_CODES = frozenset({20429})  # too many requests
OPTED_OUT_CODE = 21610  # the number said STOP


def failure_for(code: int | None, http_status: int | None = None) -> Failure:
    """How to treat a failed send from Twilio's error code and HTTP status (either may be missing).

    21211 (invalid number), 21614 (not a mobile), 30005/30006/30007 (unknown, landline, filtered)
    and anything else Twilio refuses are permanent.
    """
    if code in RETRY_ONCE_CODES:
        return Failure.RETRY_ONCE
    if code in TEMPORARY_CODES or http_status == 429:
        return Failure.TEMPORARY
    if code == OPTED_OUT_CODE:
        return Failure.OPTED_OUT
    if http_status is not None and http_status >= 500:
        return Failure.AMBIGUOUS
    return Failure.PERMANENT


class RecordingUnavailable(Exception):
    """The recording cannot be fetched (unknown, deleted, Twilio unreachable, or no account)."""


@dataclass(frozen=True)
class Recording:
    content_type: str
    chunks: Iterator[bytes]


class CallNotPlaced(Exception):
    """Twilio did not take the call (or we cannot tell whether it did); the message says why."""


# The call's progress Twilio reports to the status callback (initiated, ringing, answered, completed).
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


class SendFailed(Exception):
    """Twilio did not take the text (or we cannot tell whether it did)."""

    def __init__(self, failure: Failure, code: int | None, reason: str):
        super().__init__(f"{failure}: {reason}")
        self.failure = failure
        self.code = code


def _never_reached_twilio(error: requests.RequestException) -> bool:
    """Whether the request failed before Twilio could have read it (no connection was made).

    A timeout waiting for the answer, or a connection reset after the request went, leaves it
    unknown whether the text was accepted.
    """
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectionError) and isinstance(reason, NewConnectionError)


class TwilioGateway:
    def __init__(self, *, account_sid: str, auth_token: str, base_url: str, timeout: float,
                 from_number: str | None = None, messaging_service_sid: str | None = None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    simulated = False

    @cached_property
    def client(self):
        """The twilio REST client, built when first needed (a web worker that never sends saves ~15 MB)."""
        from ivr.twilio_client import client_for

        return client_for(self.base_url, self.account_sid, self.auth_token, self.timeout)

    def send_text(self, to: str, body: str, status_callback_url: str | None, validity_seconds: int) -> str:
        """Hand a text to Twilio; return its message sid or raise `SendFailed`."""
        params: dict = {"to": to, "body": body, "validity_period": validity_seconds}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        elif self.from_number:
            params["from_"] = self.from_number
        else:
            log.error("cannot send texts: set TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
            raise SendFailed(Failure.TEMPORARY, None, "no number or messaging service to send from")
        if status_callback_url:
            params["status_callback"] = status_callback_url
        try:
            return self.client.messages.create(**params).sid
        except TwilioRestException as error:
            raise SendFailed(failure_for(error.code, error.status), error.code or error.status,
                             f"Twilio answered {error.status}") from error
        except requests.RequestException as error:
            failure = Failure.TEMPORARY if _never_reached_twilio(error) else Failure.AMBIGUOUS
            raise SendFailed(failure, None, type(error).__name__) from error

    def place_call(self, to: str, url: str, status_callback_url: str, ring_seconds: int) -> str:
        """Ring `to` from the helpline's number; Twilio asks `url` what to say when it is answered.
        Return the CallSid, or raise `CallNotPlaced`."""
        if not self.from_number:
            raise CallNotPlaced("set TWILIO_PHONE_NUMBER: calls come from the helpline's own number")
        try:
            return self.client.calls.create(
                to=to, from_=self.from_number, url=url, method="POST", timeout=ring_seconds,
                status_callback=status_callback_url, status_callback_method="POST",
                status_callback_event=CALL_EVENTS).sid
        except TwilioRestException as error:
            raise CallNotPlaced(f"Twilio answered {error.status} (code {error.code})") from error
        except requests.RequestException as error:
            raise CallNotPlaced(f"Twilio did not answer: {type(error).__name__}") from error

    def _recording_url(self, recording_sid: str, extension: str) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}.{extension}"

    def open_recording(self, recording_sid: str) -> Recording:
        """Stream a recording's audio with the account's credentials (the SDK keeps only text)."""
        try:
            response = requests.get(self._recording_url(recording_sid, "mp3"), auth=(self.account_sid, self.auth_token),
                                    timeout=self.timeout, stream=True)
        except requests.RequestException as error:
            raise RecordingUnavailable(f"Twilio did not answer: {type(error).__name__}") from error
        if response.status_code != 200:
            response.close()
            raise RecordingUnavailable(f"Twilio answered {response.status_code}")
        # What we asked for, never what the answer says it is: the staff pages serve these bytes.
        return Recording("audio/mpeg", response.iter_content(AUDIO_CHUNK))

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete a recording on Twilio; True when it is gone (already gone counts)."""
        try:
            self.client.recordings(recording_sid).delete()
        except TwilioRestException as error:
            if error.status == 404:
                return True
            log.warning("deleting recording %s failed: %s", recording_sid, error.status)
            return False
        except requests.RequestException as error:
            log.warning("deleting recording %s failed: %s", recording_sid, type(error).__name__)
            return False
        return True


class SimulatedGateway:
    """Stands in when no Twilio account is configured: nothing is sent, fetched or deleted."""

    simulated = True

    def send_text(self, to: str, body: str, status_callback_url: str | None, validity_seconds: int) -> None:
        """Send nothing: log that a text would have gone (masked number, never the words)."""
        log.info("simulated text to %s (%d characters): not sent, no Twilio account", mask(to), len(body))
        return None

    def place_call(self, to: str, url: str, status_callback_url: str, ring_seconds: int) -> str:
        """Ring nobody: a made-up CallSid, for the terminal phone to play the call with
        (`flask --app ivr call --outbound CALLBACK_ID`)."""
        log.info("simulated call to %s: not placed, no Twilio account", mask(to))
        return "CA" + secrets.token_hex(16)

    def open_recording(self, recording_sid: str) -> Recording:
        raise RecordingUnavailable("no Twilio account is configured, so recordings cannot be fetched")

    def delete_recording(self, recording_sid: str) -> bool:
        log.info("simulated: recording %s would be deleted on Twilio", recording_sid)
        return True


def init_app(app: Flask) -> None:
    config = app.config
    if config.get("GATEWAY") is not None:
        gateway = config["GATEWAY"]
    elif config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"):
        gateway = TwilioGateway(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            base_url=config["TWILIO_API_BASE_URL"],
            timeout=config["TWILIO_HTTP_TIMEOUT"],
            from_number=config.get("TWILIO_PHONE_NUMBER"),
            messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
        )
    else:
        gateway = SimulatedGateway()
    app.extensions["gateway"] = gateway

