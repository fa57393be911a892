"""Administration: closures and the "closed now" switch, and staff accounts."""

from datetime import date

import pytest
from sqlalchemy import select

from ivr import closures, current_time
from ivr.models import AuditEvent, StaffUser
from tests.conftest import STAFF_PASSWORD, StaffActions, at_london, utc


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


def is_closed_now(app, session) -> bool:
    session.expire_all()
    return closures.closed_now(session, app.extensions["helpline"], current_time.now()) is not None


def test_closed_now_switch(app, client, admin, session):
    admin.post("/staff/admin/closed-now", {"state": "on"})
    assert is_closed_now(app, session)
    page = client.get("/staff/admin/closures").get_data(as_text=True)
    assert "Closed now is ON" in page and "It stays on until you switch it off." in page
    assert "Callers are not told when we open again." in page
    admin.post("/staff/admin/closed-now", {"state": "off"})
    assert not is_closed_now(app, session)


BANNER = 'class="closed-now-banner"'


@pytest.fixture
def thursday_morning(clock):
    clock.moment = at_london(2026, 12, 3, 10, 0)


def test_closed_now_until_a_london_time_from_the_closures_page(thursday_morning, app, client, admin, session):
    response = admin.post("/staff/admin/closed-now", {"state": "on", "until": "2026-12-03T14:00"},
                          page="/staff/admin/closures")
    assert response.status_code == 303
    page = client.get("/staff/admin/closures").get_data(as_text=True)
    assert "It ends by itself on Thu 3 Dec, 2pm." in page
    assert "Callers hear that we open again on Thu 3 Dec, 2pm." in page
    hours = closures.office_hours(session, app.extensions["helpline"], current_time.now())
    assert hours.closed_now_until == utc(2026, 12, 3, 14)
    assert "closed now on until 2026-12-03T14:00:00+00:00" in client.get("/staff/admin/audit").get_data(as_text=True)


@pytest.mark.parametrize(("until", "says"), [
    ("2026-12-03T09:30", "That time has already passed. Give a later time, or leave it empty."),
    ("half past two", "Not a valid datetime value"),
])
def test_a_reopening_time_that_cannot_be_is_refused_on_the_page(thursday_morning, app, client, admin, session,
                                                                until, says):
    response = admin.post("/staff/admin/closed-now", {"state": "on", "until": until}, page="/staff/admin/closures")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert says in body and 'id="until-error"' in body and BANNER not in body
    assert not is_closed_now(app, session)


@pytest.mark.parametrize("path", ["/staff/", "/staff/voicemails", "/staff/callbacks/new", "/staff/admin/closures"])
def test_every_staff_page_says_when_closed_now_is_on(app, client, staff_login, session, thursday_morning, path):
    closures.set_closed_now(session, True, by="admin@example.org", now=current_time.now(),
                            until=at_london(2026, 12, 3, 18, 0))
    session.commit()
    staff_login.login()  # an officer, not an administrator
    body = client.get(path).get_data(as_text=True)
    banner = body[body.index(BANNER):body.index("</section>", body.index(BANNER))]
    assert "Closed now is on:" in banner and "every caller hears the closed menu" in banner
    assert "It ends by itself on Thu 3 Dec, 6pm." in banner
    assert "Callers hear that we open again on Fri 4 Dec, 9am." in banner


def test_the_banner_without_a_reopening_time_promises_none(client, staff_login, session, thursday_morning):
    closures.set_closed_now(session, True, by="cli", now=current_time.now())
    session.commit()
    staff_login.login()
    body = client.get("/staff/").get_data(as_text=True)
    assert "It stays on until an administrator switches it off." in body
    assert "Callers are not told when we open again." in body


def test_no_banner_when_closed_now_is_off_or_has_ended(client, staff_login, session, clock, thursday_morning):
    def queue() -> str:
        response = client.get("/staff/")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    staff_login.login()
    assert BANNER not in queue()
    closures.set_closed_now(session, True, by="cli", now=current_time.now(), until=at_london(2026, 12, 3, 10, 20))
    session.commit()
    clock.moment = at_london(2026, 12, 3, 10, 19, 59)
    assert BANNER in queue()
    clock.moment = at_london(2026, 12, 3, 10, 20)
    assert BANNER not in queue()


def test_no_banner_before_signing_in(client, session, thursday_morning):
    closures.set_closed_now(session, True, by="cli", now=current_time.now())
    session.commit()
    assert BANNER not in client.get("/staff/sign-in").get_data(as_text=True)


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
