"""The one object that talks to Twilio's REST API: sending texts, fetching and deleting recordings.

Built once in the factory and kept at `app.extensions["gateway"]`. Without credentials it is a
`SimulatedGateway`: nothing leaves the machine, texts are recorded as simulated and logged with
the number masked. Tests may hand in their own object as `test_config["GATEWAY"]`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from flask import Flask
from twilio.base.exceptions import TwilioRestException

from ivr.twilio_client import TWILIO_API, client_for

log = logging.getLogger(__name__)

AUDIO_CHUNK = 64 * 1024


class RecordingUnavailable(Exception):
    """The recording cannot be fetched (unknown, deleted, Twilio unreachable, or no account)."""


@dataclass(frozen=True)
class Recording:
    content_type: str
    chunks: Iterator[bytes]


class TwilioGateway:
    def __init__(self, *, account_sid: str, auth_token: str, base_url: str, timeout: float,
                 from_number: str | None = None, messaging_service_sid: str | None = None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = (base_url or TWILIO_API).rstrip("/")
        self.timeout = timeout
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.client = client_for(self.base_url, account_sid, auth_token, timeout)

    simulated = False

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
        return Recording(response.headers.get("Content-Type", "audio/mpeg"), response.iter_content(AUDIO_CHUNK))

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

