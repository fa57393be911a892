"""Twilio signatures are checked against PUBLIC_URL: proxies, ports and forged hosts change nothing."""

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr import create_app
from ivr.twilio_auth import twilio_webhook
from tests.conftest import AUTH_TOKEN, PUBLIC_URL

PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+447911123456", "Digits": "1"}
validator = RequestValidator(AUTH_TOKEN)


@pytest.fixture(params=[0, 1], ids=["direct", "behind-one-proxy"])
def signed_app(request, app_config):
    app_config["TRUSTED_PROXY_HOPS"] = request.param
    app = create_app(app_config)
    seen = []

    def echo():
        seen.append(True)
        return "accepted"

    app.add_url_rule("/voice/test-signed", "signed_echo", twilio_webhook(echo), methods=["POST"])
    app.seen = seen
    yield app
    app.extensions["db.engine"].dispose()


def post(app, path, data, signature, base_url="http://internal:8000", headers=()):
    return app.test_client().post(path, data=data, base_url=base_url,
                                  headers={"X-Twilio-Signature": signature, **dict(headers)})


@pytest.mark.parametrize(
    ("path", "signed_for"),
    [
        ("/voice/test-signed", PUBLIC_URL + "/voice/test-signed"),
        ("/voice/test-signed?step=day&choice=2", PUBLIC_URL + "/voice/test-signed?step=day&choice=2"),
        # Twilio signs some URLs with the default port spelled out; the SDK accepts both.
        ("/voice/test-signed", PUBLIC_URL + ":443/voice/test-signed"),
        ("/voice/test-signed?a=1&a=2", PUBLIC_URL + "/voice/test-signed?a=1&a=2"),
    ],
)
def test_a_request_signed_for_the_public_url_passes_whatever_host_it_arrives_on(signed_app, path, signed_for):
    response = post(signed_app, path, PARAMS, validator.compute_signature(signed_for, PARAMS))
    assert response.status_code == 200
    assert signed_app.seen == [True]


def test_repeated_parameters_are_signed_as_twilio_does(signed_app):
    body = urlencode([("CallSid", "CA1"), ("Tag", "b"), ("Tag", "a")])
    signed = MultiDict([("CallSid", "CA1"), ("Tag", "b"), ("Tag", "a")])
    signature = validator.compute_signature(PUBLIC_URL + "/voice/test-signed", signed)
    response = signed_app.test_client().post("/voice/test-signed", data=body, base_url="http://internal:8000",
                                             content_type="application/x-www-form-urlencoded",
                                             headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("case", "signature_url", "path", "data", "headers"),
    [
        ("no signature", None, "/voice/test-signed", PARAMS, {}),
        ("signed for the internal address", "http://internal:8000/voice/test-signed", "/voice/test-signed", PARAMS, {}),
        ("signed for a forwarded host", "https://attacker.example/voice/test-signed", "/voice/test-signed", PARAMS,
         {"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}),
        ("query string changed", PUBLIC_URL + "/voice/test-signed?choice=1", "/voice/test-signed?choice=2", PARAMS, {}),
        ("a parameter changed", PUBLIC_URL + "/voice/test-signed", "/voice/test-signed", {**PARAMS, "Digits": "2"}, {}),
        ("a parameter added", PUBLIC_URL + "/voice/test-signed", "/voice/test-signed", {**PARAMS, "Extra": "x"}, {}),
        ("another path", PUBLIC_URL + "/voice/other", "/voice/test-signed", PARAMS, {}),
    ],
)
def test_a_wrong_signature_is_refused_with_403_and_the_handler_never_runs(signed_app, case, signature_url, path, data, headers):
    signature = validator.compute_signature(signature_url, PARAMS) if signature_url else ""
    response = post(signed_app, path, data, signature, headers=headers)
    assert response.status_code == 403
    assert b"signature" in response.data
    assert signed_app.seen == []


def test_a_token_from_another_account_is_refused(signed_app):
    other = RequestValidator("another-accounts-token")
    response = post(signed_app, "/voice/test-signed", PARAMS,
                    other.compute_signature(PUBLIC_URL + "/voice/test-signed", PARAMS))
    assert response.status_code == 403


def test_forwarded_client_address_is_trusted_only_for_configured_hops(app_config):
    for hops, expected in ((0, "10.0.0.5"), (1, "203.0.113.9")):
        app_config["TRUSTED_PROXY_HOPS"] = hops
        app = create_app(app_config)
        app.add_url_rule("/whoami", "whoami", lambda: __import__("flask").request.remote_addr)
        response = app.test_client().get("/whoami", environ_base={"REMOTE_ADDR": "10.0.0.5"},
                                         headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
        assert response.text == expected
        app.extensions["db.engine"].dispose()
