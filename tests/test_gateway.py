"""The Twilio gateway, through the real twilio SDK talking HTTP to a local double."""

import logging
import socket

import pytest

from ivr import create_app
from ivr.gateway import RecordingUnavailable, SendFailed, SimulatedGateway, TwilioGateway
from ivr.outbox import Failure
from tests.conftest import HELPLINE_NUMBER, MOBILE, PUBLIC_URL

RECORDING = "RE" + "1" * 32


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


# --- sending texts --------------------------------------------------------------------------------

STATUS_URL = PUBLIC_URL + "/sms/status"


def send(gateway, validity=3600):
    return gateway.send_text(MOBILE, "Reminder: we'll call you on Mon 30 Nov, 9am-12 noon.", STATUS_URL, validity)


def test_a_text_goes_from_the_helpline_number_with_a_status_callback_and_validity(gateway_app, double):
    sid = send(gateway_app.extensions["gateway"], validity=2700)
    (message,) = double.messages
    assert sid.startswith("SM")
    assert message.form["From"] == HELPLINE_NUMBER
    assert message.form["To"] == MOBILE
    assert message.form["StatusCallback"] == STATUS_URL
    assert message.form["ValidityPeriod"] == "2700"


def test_a_messaging_service_sends_instead_of_the_number_when_configured(app_config, double):
    app_config.update(TWILIO_ACCOUNT_SID=double.account_sid, TWILIO_AUTH_TOKEN=double.auth_token,
                      TWILIO_API_BASE_URL=double.base_url, TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32)
    send(create_app(app_config).extensions["gateway"])
    assert double.messages[0].form["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in double.messages[0].form


@pytest.mark.parametrize("answer, code, failure", [
    (429, 20429, Failure.TEMPORARY),      # slow down: try again later
    (500, None, Failure.AMBIGUOUS),       # Twilio may have taken it
    (503, None, Failure.AMBIGUOUS),
    (400, 21610, Failure.OPTED_OUT),      # the number said STOP to Twilio
    (400, 21211, Failure.PERMANENT),      # not a valid number
    (400, 21614, Failure.PERMANENT),      # not a mobile
    (400, 30003, Failure.RETRY_ONCE),
])
def test_each_refusal_is_classified_and_its_code_kept(gateway_app, double, answer, code, failure):
    double.queue(answer, code=code)
    with pytest.raises(SendFailed) as raised:
        send(gateway_app.extensions["gateway"])
    assert raised.value.failure is failure
    assert raised.value.code == (code or answer * 100)


def test_no_answer_within_the_timeout_means_the_text_may_have_gone(gateway_app, double):
    double.queue("hang")
    with pytest.raises(SendFailed) as raised:
        send(gateway_app.extensions["gateway"])
    assert raised.value.failure is Failure.AMBIGUOUS
    assert len(double.requests) == 1  # the request did reach Twilio


def test_twilio_unreachable_before_sending_is_safe_to_retry(app_config):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app_config.update(TWILIO_API_BASE_URL=f"http://127.0.0.1:{closed_port}", TWILIO_HTTP_TIMEOUT=1.0)
    with pytest.raises(SendFailed) as raised:
        send(create_app(app_config).extensions["gateway"])
    assert raised.value.failure is Failure.TEMPORARY


def test_without_an_account_a_text_is_only_logged_with_the_number_masked(caplog):
    with caplog.at_level(logging.INFO, logger="ivr.gateway"):
        assert send(SimulatedGateway()) is None
    assert "*********456" in caplog.text and "simulated" in caplog.text
    assert MOBILE not in caplog.text and "Mon 30 Nov" not in caplog.text
