"""What locks the staff pages down: CSRF on every form, security headers, timeouts, roles."""

from datetime import timedelta

import pytest
import requests

from tests.conftest import CSRF_FIELD, STAFF_PASSWORD, utc

MONDAY_9AM = utc(2026, 11, 30, 9)


def test_a_form_without_its_csrf_token_is_refused(client, staff_login, make_callback):
    staff_login.login()
    callback_id = make_callback()
    response = client.post(f"/staff/callbacks/{callback_id}/note", data={"text": "forged"})
    assert response.status_code == 400
    assert "expired or came from another site" in response.get_data(as_text=True)
    response = client.post(f"/staff/callbacks/{callback_id}/note", data={"text": "forged", "csrf_token": "bogus"})
    assert response.status_code == 400
    assert "forged" not in client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True)


def test_sign_in_itself_needs_the_csrf_token(client, staff_login):
    staff_login.create()
    response = client.post("/staff/sign-in", data={"email": "officer@example.org", "password": "x" * 20})
    assert response.status_code == 400


def test_twilio_webhooks_are_not_csrf_checked(app):
    # Stand-in routes where Twilio posts: CSRF must not stand in front of them (signatures do).
    for blueprint in ("voice", "sms"):
        app.add_url_rule(f"/{blueprint}/csrf-probe", endpoint=f"{blueprint}.csrf_probe",
                         view_func=lambda: "reached", methods=["POST"])
    app.add_url_rule("/voice/bare-probe", endpoint="bare_probe", view_func=lambda: "reached", methods=["POST"])
    client = app.test_client()
    for path in ("/voice/csrf-probe", "/sms/csrf-probe", "/voice/bare-probe"):
        assert client.post(path, data={"CallSid": "CA1"}).status_code == 200


@pytest.mark.parametrize("path", ["/staff/sign-in", "/staff/", "/staff/no-such-page"])
def test_every_staff_page_carries_the_security_headers(client, staff_login, path):
    staff_login.login()
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["Cache-Control"] == "no-store"
    # Our own pages get the Referer the CSRF check needs over https; other sites get nothing.
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # PUBLIC_URL is https in the tests, so the browser is told to keep to https.
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_over_https_behind_nginx_a_form_needs_its_token_and_must_come_from_this_site(
        behind_nginx, staff_login, make_callback):
    base = behind_nginx.url
    officer = requests.Session()
    # Per request: a session's own `verify` loses to REQUESTS_CA_BUNDLE when that is set.
    tls = {"verify": str(behind_nginx.certificate), "timeout": 10}

    def token(path: str) -> str:
        return CSRF_FIELD.search(officer.get(base + path, **tls).text).group(1)

    def post(path: str, data: dict, referer: str | None) -> int:
        return officer.post(base + path, data=data, headers={"Referer": referer} if referer else {},
                            allow_redirects=False, **tls).status_code

    staff_login.create()
    signed_in = post("/staff/sign-in", {"email": "officer@example.org", "password": STAFF_PASSWORD,
                                        "csrf_token": token("/staff/sign-in")}, base + "/staff/sign-in")
    assert signed_in == 302
    page = f"/staff/callbacks/{make_callback()}"
    response = officer.get(base + page, **tls)
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    note = f"{page}/note"
    for elsewhere in ("https://attacker.example/", f"http{base.removeprefix('https')}{page}", None):
        assert post(note, {"text": "forged", "csrf_token": token(page)}, elsewhere) == 400, elsewhere
    assert post(note, {"text": "forged"}, base + page) == 400
    assert post(note, {"text": "Rang twice", "csrf_token": token(page)}, base + page) == 303
    shown = officer.get(base + page, **tls).text
    assert "Rang twice" in shown and "forged" not in shown


def test_session_cookie_is_secure_httponly_and_samesite_lax_under_https(client, staff_login):
    response = staff_login.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_plain_http_gets_no_hsts_and_no_secure_cookie(app_config):
    from ivr import create_app
    from tests.conftest import StaffActions

    app_config["PUBLIC_URL"] = None
    app = create_app(app_config)
    client = app.test_client()
    response = StaffActions(app, client).login()
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in client.get("/staff/").headers
    app.extensions["db.engine"].dispose()


def test_the_twilio_and_health_routes_are_left_alone(client):
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_idle_for_more_than_30_minutes_signs_you_out(client, staff_login, clock):
    clock.moment = MONDAY_9AM
    staff_login.login()
    clock.moment += timedelta(minutes=29)
    assert client.get("/staff/").status_code == 200
    clock.moment += timedelta(minutes=29)  # active 29 minutes ago: still fine
    assert client.get("/staff/").status_code == 200
    clock.moment += timedelta(minutes=31)
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/sign-in"
    assert "30 minutes without activity" in client.get("/staff/sign-in").get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_twelve_hours_after_signing_in_you_are_signed_out_however_busy(client, staff_login, clock):
    clock.moment = MONDAY_9AM
    staff_login.login()
    for _ in range(35):  # a request every 20 minutes, until 8:40pm
        clock.moment += timedelta(minutes=20)
        assert client.get("/staff/").status_code == 200
    clock.moment += timedelta(minutes=21)  # 9:01pm
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "more than 12 hours ago" in client.get("/staff/sign-in").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/staff/admin/", "/staff/admin/closures", "/staff/admin/accounts",
                                  "/staff/admin/audit", "/staff/admin/accounts/1/password"])
def test_staff_cannot_reach_admin_pages(client, staff_login, path):
    staff_login.login()
    response = client.get(path)
    assert response.status_code == 403
    assert "Only administrators" in response.get_data(as_text=True)


@pytest.mark.parametrize("path, data", [
    ("/staff/admin/closures", {"day": "2099-12-24"}),
    ("/staff/admin/closed-now", {"state": "on"}),
    ("/staff/admin/accounts", {"email": "new@example.org", "role": "admin", "password": "x" * 12, "confirm": "x" * 12}),
])
def test_staff_cannot_make_admin_changes(client, staff_login, path, data):
    staff_login.login()
    assert staff_login.post(path, data).status_code == 403


def test_admins_reach_admin_pages(client, staff_login):
    staff_login.login("admin@example.org", role="admin")
    for path in ("/staff/admin/closures", "/staff/admin/accounts", "/staff/admin/audit"):
        assert client.get(path).status_code == 200
