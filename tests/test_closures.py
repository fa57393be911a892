"""Closures that make sense: a day already past is refused (a form error, or the command says
why), and a closure on a weekend or a bank holiday is kept with a word that the office is closed
then anyway. Through the administrators' page and the `closures add` command."""

import pytest
from sqlalchemy import select

from ivr.models import Closure
from tests.conftest import at_london

THURSDAY = at_london(2026, 12, 3, 10)


@pytest.fixture(autouse=True)
def thursday(clock):
    clock.moment = THURSDAY


@pytest.fixture
def admin(staff_login):
    staff_login.login("admin@example.org", role="admin")
    return staff_login


def closed_days(session) -> list[str]:
    session.expire_all()
    return [day.isoformat() for day in session.scalars(select(Closure.day).order_by(Closure.day))]


@pytest.mark.parametrize("day", ["2026-12-02", "2025-12-24"])
def test_a_day_already_past_is_a_form_error(admin, session, day):
    response = admin.post("/staff/admin/closures", {"day": day, "reason": "Staff training"},
                          page="/staff/admin/closures")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That date has passed. Give today (Thursday 3 December) or a later date." in page
    assert 'aria-invalid="true"' in page  # on the date field itself
    assert closed_days(session) == []


def test_today_can_still_be_closed(admin, session, client):
    response = admin.post("/staff/admin/closures", {"day": "2026-12-03"}, page="/staff/admin/closures")
    assert response.status_code == 303
    assert closed_days(session) == ["2026-12-03"]
    page = client.get("/staff/admin/closures").get_data(as_text=True)
    assert "It was already closed" not in page
    assert "The office is closed on Thursday 3 December." in page  # this year's date, without its year


@pytest.mark.parametrize("day, why", [
    ("2026-12-05", "the office does not open on Saturdays"),
    ("2026-12-06", "the office does not open on Sundays"),
    ("2026-12-25", "it is a bank holiday in England"),
    ("2026-12-28", "it is a bank holiday in England"),  # Boxing Day falls on a Saturday: Monday is the holiday
])
def test_a_day_the_office_is_closed_anyway_is_kept_with_a_note(admin, session, client, day, why):
    response = admin.post("/staff/admin/closures", {"day": day, "reason": "Christmas"}, page="/staff/admin/closures")
    assert response.status_code == 303
    assert closed_days(session) == [day]
    page = client.get("/staff/admin/closures").get_data(as_text=True)
    assert f"It was already closed that day ({why}), so callers hear nothing different" in page


def test_the_command_refuses_a_past_day_and_notes_a_weekend(runner, session):
    past = runner.invoke(args=["closures", "add", "2026-12-01"])
    assert past.exit_code != 0 and "2026-12-01 has already passed; give today or a later date." in past.output
    weekend = runner.invoke(args=["closures", "add", "2026-12-05"])
    assert weekend.exit_code == 0
    assert "It was already closed then: the office does not open on Saturdays." in weekend.output
    assert closed_days(session) == ["2026-12-05"]
