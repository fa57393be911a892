"""Failed sign-ins are counted in the database: every web worker (here, two apps on one database)
sees the same counts, the windows slide, old failures are pruned, and no typed address is kept."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr import create_app
from ivr.models import SignInFailure
from ivr.staff.sign_in_limits import Limit
from tests.conftest import STAFF_PASSWORD, StaffActions, utc

START = utc(2026, 11, 30, 10)


@pytest.fixture
def two_workers(app_config):
    """Two apps on the same database, as two gunicorn workers (or two machines) would be."""
    apps = [create_app(app_config) for _ in range(2)]
    yield [StaffActions(app, app.test_client()) for app in apps]
    for app in apps:
        app.extensions["db.engine"].dispose()


def wrong_password(worker: StaffActions, email: str = "officer@example.org", address: str = "10.0.0.1") -> int:
    return worker.client.post("/staff/sign-in", data={"email": email, "password": "not the right one",
                                                      "csrf_token": worker.csrf_token("/staff/sign-in")},
                              environ_base={"REMOTE_ADDR": address}).status_code


def test_workers_share_the_count_for_an_account_from_an_address(two_workers):
    first, second = two_workers
    first.create()
    answers = [wrong_password(two_workers[attempt % 2]) for attempt in range(5)]
    assert answers == [400] * 5
    assert [sign_in(worker) for worker in two_workers] == [429, 429]  # even the right password
    assert sign_in(second, address="10.0.0.2") == 302


def test_workers_share_the_count_for_an_account_from_every_address(app_config):
    apps = [create_app(app_config | {"SIGN_IN_LIMIT_PER_ACCOUNT": "8 per hour"}) for _ in range(2)]
    workers = [StaffActions(app, app.test_client()) for app in apps]
    workers[0].create()
    answers = [wrong_password(workers[attempt % 2], address=f"10.0.0.{attempt}") for attempt in range(8)]
    assert answers == [400] * 8
    assert [sign_in(worker, address="10.9.9.9") for worker in workers] == [429, 429]
    for app in apps:
        app.extensions["db.engine"].dispose()


def sign_in(worker: StaffActions, address: str = "10.0.0.1") -> int:
    return worker.client.post("/staff/sign-in", data={"email": "officer@example.org", "password": STAFF_PASSWORD,
                                                      "csrf_token": worker.csrf_token("/staff/sign-in")},
                              environ_base={"REMOTE_ADDR": address}).status_code


def test_workers_share_the_count_for_an_address(two_workers):
    answers = [wrong_password(two_workers[attempt % 2], f"guess{attempt}@example.org") for attempt in range(20)]
    assert answers == [400] * 20
    assert [wrong_password(worker, "another@example.org") for worker in two_workers] == [429, 429]
    assert wrong_password(two_workers[0], "another@example.org", "10.9.9.9") == 400


def test_failures_stop_counting_once_the_window_has_passed_and_are_pruned(client, staff_login, session, clock):
    staff_login.create()
    clock.moment = START
    for _ in range(5):
        wrong_password(staff_login)
    assert sign_in(staff_login) == 429
    clock.moment = START + timedelta(minutes=14, seconds=59)
    assert sign_in(staff_login) == 429
    clock.moment = START + timedelta(minutes=15)
    assert sign_in(staff_login) == 302
    # Kept for the account's own limit (a day), then forgotten when a new failure is counted.
    clock.moment = START + timedelta(days=1)
    assert wrong_password(staff_login, "someone@example.org") == 400
    session.expire_all()
    assert [failure.at for failure in session.scalars(select(SignInFailure))] == [START + timedelta(days=1)]


def test_the_table_keeps_no_email_address(client, staff_login, session):
    wrong_password(staff_login, "Someone@Example.org ")
    wrong_password(staff_login, "someone@example.org")
    accounts = {failure.account for failure in session.scalars(select(SignInFailure))}
    assert len(accounts) == 1  # the same account however it was typed
    assert "someone" not in accounts.pop()


@pytest.mark.parametrize("text, count, window", [
    ("5 per 15 minutes", 5, timedelta(minutes=15)),
    ("20 per hour", 20, timedelta(hours=1)),
    ("10/minute", 10, timedelta(minutes=1)),
    (" 3 PER 2 Days ", 3, timedelta(days=2)),
])
def test_limits_are_written_as_before(text, count, window):
    limit = Limit.parse(text)
    assert (limit.count, limit.window) == (count, window)


@pytest.mark.parametrize("text", ["", "lots", "5 per fortnight", "0 per minute", "5 per 0 minutes", "5 per"])
def test_a_mistyped_limit_stops_the_app_starting(app_config, text):
    with pytest.raises(ValueError, match="is not a limit"):
        create_app(app_config | {"SIGN_IN_LIMIT_PER_ACCOUNT": text})


def test_a_forwarded_address_that_is_not_one_is_counted_not_an_error(app_config):
    app = create_app(app_config | {"TRUSTED_PROXY_HOPS": 1, "SIGN_IN_LIMIT_PER_ADDRESS": "2 per 15 minutes"})
    worker = StaffActions(app, app.test_client())

    def fail():
        return worker.client.post("/staff/sign-in", headers={"X-Forwarded-For": "x" * 500},
                                  data={"email": "x@example.org", "password": "wrong wrong wrong",
                                        "csrf_token": worker.csrf_token("/staff/sign-in")}).status_code

    assert [fail() for _ in range(3)] == [400, 400, 429]
    app.extensions["db.engine"].dispose()
