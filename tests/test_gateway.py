"""The Twilio gateway, through the real twilio SDK talking HTTP to a local double."""

import pytest

from ivr import create_app
from ivr.gateway import RecordingUnavailable, SimulatedGateway, TwilioGateway
from tests.twilio_double import TwilioDouble

RECORDING = "RE" + "1" * 32


@pytest.fixture
def double():
    with TwilioDouble() as double:
        yield double


@pytest.fixture
def gateway_app(app_config, double):
    app_config.update(TWILIO_ACCOUNT_SID=double.account_sid, TWILIO_AUTH_TOKEN=double.auth_token,
                      TWILIO_API_BASE_URL=double.base_url, TWILIO_HTTP_TIMEOUT=1.0)
    app = create_app(app_config)
    yield app
    app.extensions["db.engine"].dispose()


def test_without_credentials_the_gateway_is_simulated(app_config):
    app_config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)
    gateway = create_app(app_config).extensions["gateway"]
    assert isinstance(gateway, SimulatedGateway)
    with pytest.raises(RecordingUnavailable, match="no Twilio account"):
        gateway.open_recording(RECORDING)


def test_a_recording_streams_with_the_accounts_credentials(gateway_app, double):
    double.add_recording(RECORDING, b"ID3-audio-bytes")
    gateway = gateway_app.extensions["gateway"]
    assert isinstance(gateway, TwilioGateway)
    recording = gateway.open_recording(RECORDING)
    assert b"".join(recording.chunks) == b"ID3-audio-bytes"
    assert recording.content_type == "audio/mpeg"
    assert double.requests[-1].auth == (double.account_sid, double.auth_token)


def test_an_unknown_or_hanging_recording_is_unavailable_not_an_error(gateway_app, double):
    gateway = gateway_app.extensions["gateway"]
    with pytest.raises(RecordingUnavailable, match="404"):
        gateway.open_recording(RECORDING)
    double.queue("hang", route="recordings")
    with pytest.raises(RecordingUnavailable, match="did not answer"):
        gateway.open_recording(RECORDING)


def test_deleting_a_recording_on_twilio(gateway_app, double):
    double.add_recording(RECORDING, b"x")
    gateway = gateway_app.extensions["gateway"]
    assert gateway.delete_recording(RECORDING) is True
    assert double.deleted_recordings == [RECORDING]
    assert gateway.delete_recording(RECORDING) is True  # already gone is gone
    double.queue(500, route="recordings")
    assert gateway.delete_recording(RECORDING) is False
