"""The Figures page: a seeded period whose counts are known (a call across midnight, the night the
clocks go back, the edges of the period in London time, a bank holiday, a closure, an anonymised
callback), read from the page, from the CSV with the csv module, and the anonymised callback list."""

import csv
import io
import re
from datetime import date, timedelta

import pytest

from ivr.models import (
    Call,
    Callback,
    CallbackEvent,
    CallStep,
    Closure,
    InboundText,
    Reminder,
    Voicemail,
)
from ivr.staff.figures import spreadsheet_safe
from tests.conftest import at_london, utc

TODAY = at_london(2026, 12, 15, 12)  # the default period is October to December 2026
TEAMS = ["Restorative Cleveland", "Durham Restorative Justice Hub", "Victim Care and Advice Service", "No team"]

calls_made = iter(range(1, 1000))


def call(session, region, started, ended=None, steps=()):
    sid = f"CA{next(calls_made):032d}"
    session.add(Call(call_sid=sid, from_number=None, region=region, started_at=started, ended_at=ended,
                     status="completed"))
    session.add_all(CallStep(call_sid=sid, choice=choice, at=started) for choice in steps)


def callback(session, region, created, window_day, *, by_phone=True, status="booked", attempts=(), anonymised=False,
             staff_id=None):
    starts, ends = at_london(*window_day, 9), at_london(*window_day, 12)
    booked = Callback(call_sid=f"CA{next(calls_made):032d}" if by_phone else None, region=region,
                      phone_number="(removed)" if anonymised else f"+4479111{next(calls_made):05d}", is_mobile=True,
                      window_start=starts, window_end=ends, status=status, created_at=created, updated_at=created,
                      created_by_id=None if by_phone else staff_id,
                      anonymised_at=created + timedelta(days=30) if anonymised else None)
    session.add(booked)
    session.flush()
    for outcome, hour in attempts:
        session.add(CallbackEvent(callback_id=booked.id, at=at_london(*window_day, hour), kind="attempt", outcome=outcome))
    return booked


@pytest.fixture
def admin(staff_login, clock):
    clock.moment = TODAY
    staff_login.login("admin@example.org", role="admin")
    return staff_login


@pytest.fixture
def seeded(admin, session):
    officer_id = admin.create("officer@example.org")
    # Calls: 9 in the period, 2 of them in office hours.
    call(session, "cleveland", at_london(2026, 11, 30, 10), steps=("team", "put_through", "answered"))
    call(session, "cleveland", at_london(2026, 11, 30, 23, 50), ended=at_london(2026, 12, 1, 0, 10))  # across midnight
    call(session, "durham", utc(2026, 10, 25, 0, 30))  # 1:30am BST, Sunday 25 October: the clocks go back at 2am
    call(session, "durham", utc(2026, 10, 25, 1, 30))  # 1:30am GMT, the same night: the hour from 1am comes twice
    call(session, None, at_london(2026, 11, 28, 10), steps=("rj_info", "callback", "rj_info"))  # a Saturday
    call(session, None, at_london(2026, 9, 30, 23, 30))  # before the period, though 30 September in UTC too
    call(session, None, at_london(2026, 10, 1, 0, 30))  # in the period: still 30 September in UTC
    call(session, "vcas", at_london(2026, 12, 25, 10))  # Christmas Day, a Friday: a bank holiday
    call(session, "vcas", at_london(2026, 12, 24, 10))  # a closure the administrators added
    session.add(Closure(day=date(2026, 12, 24), reason="Christmas Eve"))
    call(session, "durham", at_london(2026, 12, 1, 14), steps=("team", "put_through", "not_answered", "message"))
    call(session, "durham", at_london(2027, 1, 1, 0, 0))  # after the period
    # Callbacks: 4 booked (3 by phone), 2 completed, 1 cancelled; of the 3 not cancelled 1 reached in its window.
    callback(session, "cleveland", at_london(2026, 11, 27, 10), (2026, 11, 30), status="completed",
             attempts=[("spoke", 10)])
    callback(session, "durham", at_london(2026, 11, 27, 11), (2026, 12, 1), by_phone=False, status="cancelled",
             staff_id=officer_id)
    callback(session, "cleveland", at_london(2026, 11, 27, 12), (2026, 12, 2), attempts=[("not_safe", 9), ("no_answer", 11)])
    callback(session, "durham", at_london(2026, 10, 5, 10), (2026, 10, 7), status="completed",
             attempts=[("spoke", 15)], anonymised=True)  # reached, but in the afternoon: not within its window
    # Voicemails: 3 left, 1 first listened to within one working day.
    for sid, left, listened in (("1", at_london(2026, 11, 27, 17, 30), at_london(2026, 11, 30, 16, 59)),  # Fri -> Mon
                                ("2", at_london(2026, 11, 30, 10), at_london(2026, 12, 2, 9)),  # Mon -> Wed: late
                                ("3", at_london(2026, 12, 1, 10), None)):
        session.add(Voicemail(recording_sid="RE" + sid * 32, region="cleveland", created_at=left, listened_at=listened,
                              status="listened" if listened else "new"))
    # Texts: 3 sent (1 an officer's), 1 delivered, 2 failed; 2 received, 1 of them STOP.
    first = session.query(Callback).filter_by(region="cleveland").first()
    due = at_london(2026, 11, 29, 11)
    for n, (kind, status, delivery) in enumerate((("day_before", "sent", "delivered"), ("hour_before", "sent", "undelivered"),
                                                   ("staff", "sent", None), ("day_before", "failed", None),
                                                   ("hour_before", "pending", None))):
        session.add(Reminder(callback_id=first.id, kind=kind, to_number=first.phone_number, due_at=due + timedelta(minutes=n),
                             useful_until=first.window_start + timedelta(minutes=n), status=status,
                             delivery_status=delivery, sent_at=due if status == "sent" else None,
                             message_sid=f"SM{n:032d}" if status == "sent" else None,
                             request_key="k" if kind == "staff" else None))
    session.add(InboundText(message_sid="SM" + "a" * 32, from_number=first.phone_number, body="ok", command="other",
                            callback_id=first.id, received_at=at_london(2026, 11, 29, 12)))
    session.add(InboundText(message_sid="SM" + "b" * 32, from_number="+447911000000", body="STOP", command="stop",
                            received_at=at_london(2026, 11, 29, 13)))
    session.commit()


def row(page: str, label: str) -> list[str]:
    """The cells of the table row headed `label`."""
    found = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', page, re.S)
    assert found, label
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def test_the_quarter_by_team_and_in_total_with_each_definition(client, seeded):
    response = client.get("/staff/admin/figures")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Thursday 1 October to Thursday 31 December" in page
    #                                   Cleveland, Durham, VCAS, no team, total
    assert row(page, "Calls")[:5] == ["2", "3", "2", "2", "9"]
    assert row(page, "In office hours")[:5] == ["1", "1", "0", "0", "2"]
    assert row(page, "Out of hours")[:5] == ["1", "2", "2", "2", "7"]
    assert row(page, "Put through to a team")[4] == "2"
    assert row(page, "Answered by the team")[:5] == ["1", "0", "0", "0", "1"]
    assert row(page, "Not answered")[:5] == ["0", "1", "0", "0", "1"]
    assert row(page, "Callbacks booked")[4] == "4"
    assert row(page, "Booked on the phone line")[4] == "3" and row(page, "Booked by hand")[4] == "1"
    assert row(page, "Completed")[4] == "2" and row(page, "Cancelled")[4] == "1"
    assert row(page, "Reached within their window")[:5] == ["50%", "0%", "—", "—", "33%"]
    assert row(page, "Call attempts per callback")[4] == "1.0"
    assert row(page, "Not a good time / not safe")[4] == "1"
    assert row(page, "Messages left")[4] == "3"
    assert row(page, "First listened to within one working day")[4] == "33%"
    assert row(page, "Texts sent")[4] == "3" and row(page, "of which officers&#39; replies")[4] == "1"
    assert row(page, "Delivered")[4] == "1" and row(page, "Failed")[4] == "2"
    assert row(page, "Texts received")[4] == "2" and row(page, "Opt-outs")[:5] == ["0", "0", "0", "1", "1"]
    assert "counted on the London day they began" in row(page, "Calls")[5]  # the definition beside it


def test_hours_and_days_are_london_time_across_midnight_and_the_clocks_going_back(client, seeded):
    page = client.get("/staff/admin/figures").get_data(as_text=True)
    assert row(page, "01:00")[:5] == ["0", "2", "0", "0", "2"]  # both 1:30ams of 25 October
    assert row(page, "23:00")[4] == "1" and row(page, "00:00")[4] == "1"  # 11:50pm Monday; 12:30am 1 October
    assert row(page, "Sunday")[4] == "2" and row(page, "Monday")[4] == "2"  # the call across midnight: Monday once
    assert row(page, "Heard what Restorative Justice is (1)")[3:5] == ["1", "1"]  # pressed twice: one call


def test_every_series_is_drawn_as_a_chart_with_its_numbers_beside_it(client, seeded):
    page = client.get("/staff/admin/figures").get_data(as_text=True)
    charts = re.findall(r'<svg class="chart" id="([^"]+)"[^>]*role="img"', page)
    assert charts == ["calls_by_hour-chart", "calls_by_weekday-chart", "menu_choices-chart", "attempt_outcomes-chart"]
    for chart in charts:
        assert f'<title id="{chart}-title">' in page
    hour_chart = page[page.index('id="calls_by_hour-chart"'):page.index("</svg>", page.index('id="calls_by_hour-chart"'))]
    assert hour_chart.count("<rect") == 24 and "<title>01:00: 2</title>" in hour_chart
    assert "<script" not in page


def test_the_figures_as_csv_read_back_by_the_csv_module(client, seeded):
    response = client.get("/staff/admin/figures.csv?start=2026-10-01&end=2026-12-31")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["section", "figure", *TEAMS, "total", "definition"]
    by_figure = {(r[0], r[1]): r for r in rows[1:]}
    assert by_figure[("Calls", "Calls")][2:7] == ["2", "3", "2", "2", "9"]
    assert by_figure[("Callbacks", "Reached within their window")][6] == "33%"
    assert by_figure[("Calls by hour of day", "01:00")][2:7] == ["0", "2", "0", "0", "2"]


def test_the_anonymised_callback_list_has_no_numbers_or_notes(client, seeded):
    response = client.get("/staff/admin/figures/callbacks.csv")
    text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert [r["booked_by"] for r in rows] == ["phone line", "phone line", "officer", "phone line"]
    assert rows[0]["window_day"] == "2026-10-07" and rows[0]["attempts"] == "1"  # the anonymised one, booked first
    assert "+44" not in text and "(removed)" not in text


@pytest.mark.parametrize("cell, written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Cleveland", "Cleveland"), (12, "12"), (None, ""),
])
def test_a_cell_that_would_start_a_formula_is_written_as_text(cell, written):
    assert spreadsheet_safe(cell) == written


@pytest.mark.parametrize("query, reason", [
    ("?start=2026-13-01", "The start date must be a date like"),
    ("?start=2026-12-01&end=2026-11-01", "The end date is before the start date."),
    ("?start=2020-01-01&end=2026-12-31", "Choose a period of at most"),
])
def test_a_period_that_cannot_be_used_is_answered_with_the_reason(client, admin, query, reason):
    response = client.get("/staff/admin/figures" + query)
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    assert client.get("/staff/admin/figures.csv" + query).status_code == 400


def test_only_administrators_see_the_figures(client, staff_login):
    staff_login.login()
    assert client.get("/staff/admin/figures").status_code == 403
    assert client.get("/staff/admin/figures/callbacks.csv").status_code == 403


@pytest.mark.parametrize("answers, answered, not_answered", [("completed", "1", "0"), ("no-answer", "0", "1")])
def test_a_call_through_the_phone_line_is_counted_by_its_choices(client, admin, phone, clock, answers, answered,
                                                                 not_answered):
    from tests.conftest import MONDAY_MORNING

    call = phone.ring(at=MONDAY_MORNING, answers=answers)
    call.press("1")  # what RJ is
    call.press("3")  # speak to someone
    call.press("1")  # Cleveland: put through
    clock.moment = TODAY
    page = client.get("/staff/admin/figures").get_data(as_text=True)
    assert row(page, "Calls")[:5] == ["1", "0", "0", "0", "1"]
    assert row(page, "Put through to a team")[4] == "1"
    assert (row(page, "Answered by the team")[4], row(page, "Not answered")[4]) == (answered, not_answered)
    assert row(page, "Heard what Restorative Justice is (1)")[4] == "1"


class TestATeamWithItsOwnHours:
    """The Durham hub open 10am-4pm Monday to Thursday: its calls are in hours by its own clock."""

    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        from ivr import config

        source = (config.PACKAGE_DIR / "helpline.toml").read_text()
        mine = tmp_path / "helpline.toml"
        mine.write_text(source.replace('# hours = { opens = "10:00"', 'hours = { opens = "10:00"', 1))
        return app_config | {"HELPLINE_CONFIG": str(mine)}

    def test_in_office_hours_by_each_teams_own_hours(self, client, admin, session):
        call(session, "durham", at_london(2026, 11, 30, 9, 30))  # Monday: the office is open, the hub not yet
        call(session, "durham", at_london(2026, 11, 30, 15, 30))  # the hub is open
        call(session, "durham", at_london(2026, 12, 4, 11))  # Friday: not one of the hub's days
        call(session, "cleveland", at_london(2026, 12, 4, 11))  # ... but one of Cleveland's
        session.commit()
        page = client.get("/staff/admin/figures").get_data(as_text=True)
        assert row(page, "In office hours")[:5] == ["1", "1", "0", "0", "2"]
        assert row(page, "Out of hours")[:5] == ["0", "2", "0", "0", "2"]
