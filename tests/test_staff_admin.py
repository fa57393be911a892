"""Administration: closures and the "closed now" switch, and staff accounts."""

from datetime import date

import pytest
from sqlalchemy import select

from ivr import closures
from ivr.models import AuditEvent, StaffUser
from tests.conftest import STAFF_PASSWORD, StaffActions


@pytest.fixture
def admin(staff_login):
    staff_login.login("admin@example.org", role="admin")
    return staff_login


def test_add_and_remove_a_closure(client, admin, session):
    response = admin.post("/staff/admin/closures", {"day": "2099-12-24", "reason": "Staff training"})
    assert response.status_code == 303
    assert "Staff training" in client.get("/staff/admin/closures").get_data(as_text=True)
    assert [c.day for c in closures.list_closures(session, date(2099, 1, 1))] == [date(2099, 12, 24)]
    admin.post("/staff/admin/closures/2099-12-24/remove")
    session.expire_all()
    assert closures.list_closures(session, date(2099, 1, 1)) == []


def test_a_bad_closure_date_is_a_form_error(client, admin):
    response = admin.post("/staff/admin/closures", {"day": "24/12/2099"})
    assert response.status_code == 400
    assert "Not a valid date" in response.get_data(as_text=True)


def test_closed_now_switch(client, admin, session):
    admin.post("/staff/admin/closed-now", {"state": "on"})
    assert closures.is_closed_now(session)
    assert "Closed now is ON" in client.get("/staff/admin/closures").get_data(as_text=True)
    admin.post("/staff/admin/closed-now", {"state": "off"})
    session.expire_all()
    assert not closures.is_closed_now(session)


def test_create_an_account_that_can_then_sign_in(app, admin, session):
    response = admin.post("/staff/admin/accounts", {"email": "New.Officer@Example.org", "role": "staff",
                                                     "password": "a long enough pass", "confirm": "a long enough pass"})
    assert response.status_code == 303
    assert session.scalar(select(StaffUser).where(StaffUser.email == "new.officer@example.org")).role == "staff"
    newcomer = StaffActions(app, app.test_client())
    assert newcomer.login("new.officer@example.org", "a long enough pass").status_code == 302


@pytest.mark.parametrize("data, message", [
    ({"password": "too short", "confirm": "too short"}, "at least 12 characters"),
    ({"password": "a long enough pass", "confirm": "something else"}, "The two passwords are different"),
    ({"email": "not-an-address"}, "Enter an email address"),
    ({"email": "admin@example.org"}, "There is already an account"),
])
def test_bad_new_accounts_are_refused(admin, session, data, message):
    form = {"email": "new@example.org", "role": "staff", "password": "a long enough pass",
            "confirm": "a long enough pass"} | data
    response = admin.post("/staff/admin/accounts", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(StaffUser).where(StaffUser.email == "new@example.org")) is None


def test_no_composition_rules_only_length(admin):
    response = admin.post("/staff/admin/accounts", {"email": "n@example.org", "role": "staff",
                                                     "password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"})
    assert response.status_code == 303


def test_disabling_an_account_ends_its_sessions_and_sign_in(app, admin, session):
    officer = StaffActions(app, app.test_client())
    officer.login()
    assert officer.client.get("/staff/").status_code == 200
    officer_id = session.scalar(select(StaffUser.id).where(StaffUser.email == "officer@example.org"))
    admin.post(f"/staff/admin/accounts/{officer_id}/disable", page="/staff/admin/accounts")
    assert officer.client.get("/staff/").status_code == 302
    assert officer.login().status_code == 400
    admin.post(f"/staff/admin/accounts/{officer_id}/enable", page="/staff/admin/accounts")
    assert officer.login().status_code == 302


def test_an_admin_cannot_disable_themselves(admin, session):
    admin.post("/staff/admin/accounts/1/disable")
    assert session.get(StaffUser, 1).active


def test_resetting_a_password_ends_sessions_and_the_old_password(app, admin, session):
    officer = StaffActions(app, app.test_client())
    officer.login()
    officer_id = session.scalar(select(StaffUser.id).where(StaffUser.email == "officer@example.org"))
    path = f"/staff/admin/accounts/{officer_id}/password"
    assert admin.post(path, {"password": "short", "confirm": "short"}, page=path).status_code == 400
    response = admin.post(path, {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}, page=path)
    assert response.status_code == 303
    assert officer.client.get("/staff/").status_code == 302
    assert officer.login(password=STAFF_PASSWORD).status_code == 400
    assert officer.login(password="a brand new passphrase").status_code == 302


LOCKED = "sign-in locked after wrong passwords"


def sign_in_from(officer: StaffActions, address: str, password: str = STAFF_PASSWORD) -> int:
    return officer.client.post("/staff/sign-in", data={"email": "officer@example.org", "password": password,
                                                       "csrf_token": officer.csrf_token("/staff/sign-in")},
                               environ_base={"REMOTE_ADDR": address}).status_code


@pytest.fixture
def locked_out_officer(app, session) -> tuple[StaffActions, int]:
    """An officer who typed a wrong password five times at their desk, and is now refused there."""
    officer = StaffActions(app, app.test_client())
    officer_id = officer.create()
    assert [sign_in_from(officer, "10.0.0.7", "not my password") for _ in range(5)] == [400] * 5
    assert sign_in_from(officer, "10.0.0.7") == 429
    return officer, officer_id


def test_an_administrator_sees_a_locked_account_and_unlocks_it(client, admin, locked_out_officer, session):
    officer, officer_id = locked_out_officer
    page = client.get("/staff/admin/accounts").get_data(as_text=True)
    assert page.count(LOCKED) == 1 and "Unlock<span" in page
    response = admin.post(f"/staff/admin/accounts/{officer_id}/unlock", page="/staff/admin/accounts")
    assert response.status_code == 303
    page = client.get("/staff/admin/accounts").get_data(as_text=True)
    assert "officer@example.org can sign in again" in page and LOCKED not in page
    assert sign_in_from(officer, "10.0.0.7") == 302
    audited = session.scalars(select(AuditEvent.detail).where(AuditEvent.record_id == officer_id)).all()
    assert audited == ["unlocked"]


def test_an_administrators_password_reset_also_lifts_the_lock(admin, locked_out_officer):
    officer, officer_id = locked_out_officer
    path = f"/staff/admin/accounts/{officer_id}/password"
    response = admin.post(path, {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}, page=path)
    assert response.status_code == 303
    assert sign_in_from(officer, "10.0.0.7", "a brand new passphrase") == 302


def test_only_administrators_unlock(app, locked_out_officer):
    officer, officer_id = locked_out_officer
    colleague = StaffActions(app, app.test_client())
    colleague.login("colleague@example.org")
    assert colleague.post(f"/staff/admin/accounts/{officer_id}/unlock").status_code == 403
    assert sign_in_from(officer, "10.0.0.7") == 429
