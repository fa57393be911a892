"""The log: security events an operator can act on, with nothing personal in them; lines that no
logged value can forge; and gunicorn's own lines left intact in production."""

from __future__ import annotations

import json
import logging
import re

import pytest
import requests
from sqlalchemy import select

from ivr import create_app
from ivr.logs import JsonFormatter, TextFormatter
from ivr.models import StaffUser
from ivr.phone import mask
from tests.conftest import CSRF_FIELD, MOBILE, STAFF_PASSWORD, StaffActions

OFFICER, ADMIN, COLLEAGUE = "officer@example.org", "admin@example.org", "colleague@example.org"
OFFICERS_DESK = "10.0.0.7"
CALL_SID = "CA" + "5" * 32


def security_records(caplog) -> list[dict]:
    """The security events logged, each as the production log writes it (one JSON object)."""
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "ivr.security"]


def wrong_password(actions: StaffActions, email: str = OFFICER, address: str = OFFICERS_DESK) -> int:
    return actions.client.post("/staff/sign-in", data={"email": email, "password": "not the password",
                                                       "csrf_token": actions.csrf_token("/staff/sign-in")},
                               environ_base={"REMOTE_ADDR": address}).status_code


def test_security_events_are_logged_with_what_an_operator_needs_and_nothing_personal(app, twilio, session, caplog):
    caplog.set_level(logging.INFO)
    officer, colleague, admin = (StaffActions(app, app.test_client()) for _ in range(3))
    officer_id = officer.create(OFFICER)
    twilio.post("/voice/incoming", {"CallSid": CALL_SID, "From": MOBILE}, **{"X-Twilio-Signature": "forged"})
    assert [wrong_password(officer) for _ in range(6)] == [400] * 5 + [429]
    assert colleague.login(COLLEAGUE).status_code == 302
    assert colleague.client.get("/staff/admin/accounts").status_code == 403
    assert colleague.client.post("/staff/sign-out").status_code == 400  # no CSRF token
    admin.login(ADMIN, role="admin")
    path = f"/staff/admin/accounts/{officer_id}"
    admin.post(f"{path}/disable")
    admin.post(f"{path}/password", {"password": "a brand new passphrase", "confirm": "a brand new passphrase"},
               page=f"{path}/password")
    admin.post(f"{path}/unlock")
    admin.post("/staff/admin/accounts", {"email": "newcomer@example.org", "role": "staff",
                                         "password": "a long enough pass", "confirm": "a long enough pass"})

    events = security_records(caplog)
    ids = dict(session.execute(select(StaffUser.email, StaffUser.id)).all())
    limits = app.extensions["staff.sign_in_limits"]
    at_the_desk = limits.log_fields(OFFICER, OFFICERS_DESK)
    assert [(e["event"], e["level"]) for e in events] == [
        ("twilio_signature_refused", "WARNING"),
        *[("sign_in_failed", "INFO")] * 5,
        ("sign_in_locked", "WARNING"),
        ("sign_in_refused", "WARNING"),
        ("sign_in", "INFO"),
        ("admin_page_refused", "WARNING"),
        ("csrf_refused", "WARNING"),
        ("sign_in", "INFO"),
        *[("staff_account_changed", "INFO")] * 4,
    ]
    assert events[0] | {"endpoint": "voice.incoming", "signature": "wrong"} == events[0]
    assert all(e | at_the_desk | {"staff_id": officer_id} == e for e in events[1:6])
    assert events[6] | at_the_desk | {"limit": "account_and_address", "staff_id": officer_id} == events[6]
    assert events[7] | at_the_desk | {"limit": "account_and_address"} == events[7]
    assert events[9] | {"staff_id": ids[COLLEAGUE], "endpoint": "staff.staff_accounts"} == events[9]
    assert events[10] | {"staff_id": ids[COLLEAGUE], "endpoint": "staff.sign_out",
                         "reason": "The CSRF token is missing."} == events[10]
    assert [(e["change"], e["staff_id"], e["by_staff_id"]) for e in events[-4:]] == [
        ("disabled", officer_id, ids[ADMIN]), ("password_reset", officer_id, ids[ADMIN]),
        ("unlocked", officer_id, ids[ADMIN]), ("created", ids["newcomer@example.org"], ids[ADMIN])]

    written = "\n".join(formatter.format(r) for r in caplog.records if r.name == "ivr.security"
                        for formatter in (JsonFormatter(), TextFormatter()))
    for personal in (OFFICER, "officer@", ADMIN, COLLEAGUE, "newcomer", OFFICERS_DESK, MOBILE, MOBILE[1:], CALL_SID,
                     STAFF_PASSWORD, "not the password", "forged"):
        assert personal not in written


def test_the_same_person_gets_the_same_tags_however_they_type_their_email(app):
    limits = app.extensions["staff.sign_in_limits"]
    tags = limits.log_fields(" Officer@Example.org", OFFICERS_DESK)
    assert tags == limits.log_fields(OFFICER, OFFICERS_DESK)
    assert tags["account"] != limits.log_fields(ADMIN, OFFICERS_DESK)["account"]
    assert tags["address"] != limits.log_fields(OFFICER, "10.0.0.8")["address"]
    # Another deployment (another SECRET_KEY) tags differently: a tag cannot be looked up elsewhere.
    other = create_app(app.config | {"SECRET_KEY": "another-deployment-" + "k" * 20})
    assert other.extensions["staff.sign_in_limits"].log_fields(OFFICER, OFFICERS_DESK) != tags
    other.extensions["db.engine"].dispose()


FORGED = "\n2026-12-03 10:00:00,000 INFO ivr.security: sign_in staff_id=1"


def test_a_logged_value_cannot_forge_a_line_in_the_development_format(app_config, twilio, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("ivr.voice.routes").info("call %s from %s", CALL_SID + FORGED, mask(MOBILE))
    twilio.post("/voice/incoming", {"CallSid": CALL_SID + FORGED, "From": MOBILE})  # logged or refused, never forged
    try:
        raise RuntimeError("first line\nsecond line")
    except RuntimeError:
        logging.getLogger("ivr.test").exception("failed with %s", "a\r\nb\x1b[2J")

    lines = "\n".join(TextFormatter().format(record) for record in caplog.records).splitlines()
    assert not any(line.startswith("2026-12-03 10:00:00,000") for line in lines), lines
    assert any(line.endswith(f"call {CALL_SID}\\n2026-12-03 10:00:00,000 INFO ivr.security: sign_in staff_id=1 "
                             f"from {mask(MOBILE)}") for line in lines), lines
    # A traceback still reads as one: its own lines, after the message's one line.
    assert any(line.endswith("ivr.test: failed with a\\r\\nb\\x1b[2J") for line in lines), lines
    assert "Traceback (most recent call last):" in lines and "RuntimeError: first line" in lines


@pytest.mark.parametrize("behind_nginx", [1], indirect=True, ids=["TRUSTED_PROXY_HOPS=1"])
def test_in_production_behind_nginx_gunicorns_lines_stay_whole_and_ours_are_json(behind_nginx, app):
    StaffActions(app, None).create(OFFICER)
    base, tls = behind_nginx.url, {"verify": str(behind_nginx.certificate), "timeout": 10}
    browser = requests.Session()
    for password, expected in (("not the password", 400), (STAFF_PASSWORD, 302)):
        token = CSRF_FIELD.search(browser.get(base + "/staff/sign-in", **tls).text).group(1)
        answer = browser.post(base + "/staff/sign-in", data={"email": OFFICER, "password": password,
                                                              "csrf_token": token},
                              headers={"Referer": base + "/staff/sign-in"}, allow_redirects=False, **tls)
        assert answer.status_code == expected

    log = behind_nginx.web.log_path.read_text()
    assert "Logging error" not in log and "Traceback" not in log, log
    assert re.search(r"^\[[^]]+\] \[\d+\] \[INFO\] Booting worker with pid: \d+$", log, re.MULTILINE), log
    ours = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    events = [entry["event"] for entry in ours if entry["logger"] == "ivr.security"]
    assert events == ["sign_in_failed", "sign_in"]
    assert OFFICER not in log
