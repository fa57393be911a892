"""Signing in and out: Argon2id passwords, no way in without an account, wrong passwords slowed to 429,
a fresh session on sign-in, and sessions that end server-side."""

import re

import pytest
from sqlalchemy import select

from ivr.models import StaffUser
from tests.conftest import STAFF_PASSWORD


def test_every_staff_page_needs_signing_in(client):
    for path in ("/staff/", "/staff/callbacks/1", "/staff/voicemails", "/staff/admin/audit", "/staff/callbacks/new"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/staff/sign-in")
        # Where they were going is kept in the session, not in the URL.
        assert "next" not in response.headers["Location"]


def test_an_officer_signs_in_and_sees_the_queue(client, staff_login):
    response = staff_login.login()
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "officer@example.org" in page.get_data(as_text=True)


def test_sign_in_goes_back_to_the_page_asked_for(client, staff_login):
    staff_login.create()
    client.get("/staff/voicemails")
    response = client.post("/staff/sign-in", data={"email": "officer@example.org", "password": STAFF_PASSWORD,
                                                   "csrf_token": staff_login.csrf_token("/staff/sign-in")})
    assert response.headers["Location"] == "/staff/voicemails"


def test_passwords_are_stored_as_argon2id(staff_login, session):
    staff_login.create()
    stored = session.scalar(select(StaffUser))
    assert stored.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in stored.password_hash


@pytest.mark.parametrize("email, password", [
    ("officer@example.org", "wrong password entirely"),
    ("nobody@example.org", STAFF_PASSWORD),
    ("officer@example.org", ""),
])
def test_wrong_credentials_are_refused_with_one_message(client, staff_login, email, password):
    staff_login.create()
    response = client.post("/staff/sign-in", data={"email": email, "password": password,
                                                   "csrf_token": staff_login.csrf_token("/staff/sign-in")})
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302


def test_the_same_message_for_an_unknown_address_and_a_wrong_password(client, staff_login):
    staff_login.create()
    answers = []
    for email, password in (("officer@example.org", "not the password"), ("nobody@example.org", STAFF_PASSWORD)):
        body = client.post("/staff/sign-in", data={"email": email, "password": password,
                                                   "csrf_token": staff_login.csrf_token("/staff/sign-in")})
        # The form's fresh CSRF token carries the second it was made in: not part of the answer.
        answers.append(re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "TOKEN",
                              body.get_data(as_text=True).replace(email, "EMAIL")))
    assert "do not match an active account" in answers[0]
    assert answers[0] == answers[1]


def test_a_disabled_account_cannot_sign_in(client, staff_login, session):
    staff_login.create()
    session.scalar(select(StaffUser)).active = False
    session.commit()
    assert staff_login.login().status_code == 400


def _fail(client, staff_login, email, address="10.0.0.1"):
    return client.post("/staff/sign-in", data={"email": email, "password": "not the right one",
                                               "csrf_token": staff_login.csrf_token("/staff/sign-in")},
                       environ_base={"REMOTE_ADDR": address})


def test_repeated_wrong_passwords_from_one_address_get_429_there_even_with_the_right_one(client, staff_login):
    staff_login.create()
    for _ in range(5):
        assert _fail(client, staff_login, "officer@example.org", "10.6.6.6").status_code == 400
    response = _sign_in(client, staff_login, "10.6.6.6")
    assert response.status_code == 429
    assert "too many wrong passwords for this account from this computer" in response.get_data(as_text=True)
    # Nobody else's guessing locks the officer out at their own desk.
    assert _sign_in(client, staff_login, "10.0.0.1").status_code == 302


def test_guessing_from_many_addresses_meets_a_ceiling_for_the_account(client, staff_login):
    staff_login.create()
    for attempt in range(95):  # 19 addresses, each staying under its own limit
        assert _fail(client, staff_login, "officer@example.org", f"10.1.{attempt // 5}.1").status_code == 400
    assert _sign_in(client, staff_login, "10.0.0.1").status_code == 302
    staff_login.logout()
    for attempt in range(5):
        assert _fail(client, staff_login, "officer@example.org", "10.2.0.1").status_code == 400
    response = _sign_in(client, staff_login, "10.0.0.1")
    assert response.status_code == 429  # the 100th wrong password today, from anywhere
    assert "too many wrong passwords for this account (the limit is 100 per day)" in response.get_data(as_text=True)


def _sign_in(client, staff_login, address):
    return client.post("/staff/sign-in", data={"email": "officer@example.org", "password": STAFF_PASSWORD,
                                               "csrf_token": staff_login.csrf_token("/staff/sign-in")},
                       environ_base={"REMOTE_ADDR": address})


def test_repeated_wrong_passwords_from_one_address_get_429(client, staff_login):
    staff_login.create()
    for attempt in range(20):
        assert _fail(client, staff_login, f"guess{attempt}@example.org").status_code == 400
    response = _fail(client, staff_login, "another@example.org")
    assert response.status_code == 429
    assert "too many wrong passwords from this computer" in response.get_data(as_text=True)
    # Someone at another address is not locked out.
    assert _fail(client, staff_login, "another@example.org", "10.9.9.9").status_code == 400


def test_right_passwords_do_not_count_towards_the_limit(client, staff_login):
    for _ in range(8):
        assert staff_login.login().status_code == 302
        staff_login.logout()


def test_the_session_cookie_changes_on_sign_in(client, staff_login):
    staff_login.create()
    token_before = staff_login.csrf_token("/staff/sign-in")
    cookie_before = client.get_cookie("session").value
    client.post("/staff/sign-in", data={"email": "officer@example.org", "password": STAFF_PASSWORD,
                                        "csrf_token": token_before})
    assert client.get_cookie("session").value != cookie_before
    # Nothing from before signing in survives: the old CSRF token no longer works.
    response = client.post("/staff/callbacks/new", data={"csrf_token": token_before})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client, app, staff_login):
    staff_login.login()
    copied = client.get_cookie("session").value
    staff_login.logout()
    assert client.get("/staff/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/staff/").status_code == 302


def test_disabling_an_account_ends_its_session_at_once(client, staff_login, session):
    staff_login.login()
    assert client.get("/staff/").status_code == 200
    from ivr.staff import accounts

    accounts.set_active(session.scalar(select(StaffUser)), False)
    session.commit()
    assert client.get("/staff/").status_code == 302


def test_there_is_no_self_registration(client):
    assert client.get("/staff/register").status_code in (302, 404)
    assert client.get("/staff/sign-up").status_code in (302, 404)


def test_behind_a_proxy_the_limit_is_per_forwarded_address(app_config):
    from ivr import create_app
    from tests.conftest import StaffActions

    app = create_app(app_config | {"TRUSTED_PROXY_HOPS": 1, "SIGN_IN_LIMIT_PER_ADDRESS": "3 per 15 minutes"})
    client = app.test_client()
    actions = StaffActions(app, client)

    def fail(forwarded_for):
        return client.post("/staff/sign-in", data={"email": "x@example.org", "password": "wrong wrong wrong",
                                                   "csrf_token": actions.csrf_token("/staff/sign-in")},
                           headers={"X-Forwarded-For": forwarded_for})

    assert [fail("203.0.113.7").status_code for _ in range(4)] == [400, 400, 400, 429]
    assert fail("198.51.100.9").status_code == 400  # same proxy, another person
    app.extensions["db.engine"].dispose()
