"""The queue: due today and overdue first, then upcoming, in London time; flagged items; new
voicemails; filters by region, status and assignment, with a clear answer to bad values."""

from datetime import date

import pytest
from sqlalchemy import select

from ivr.models import AuditEvent, Callback, InboundText, Reminder, Voicemail
from tests.conftest import LANDLINE, MOBILE, utc

MONDAY_8AM = utc(2026, 11, 30, 8)


@pytest.fixture(autouse=True)
def monday_morning(clock):
    clock.moment = MONDAY_8AM


@pytest.fixture
def queue(client, staff_login):
    staff_login.login()
    return lambda query="": client.get("/staff/" + query)


def section(page: str, heading: str) -> str:
    """The part of the page under the h2 that starts with `heading`, up to the next h2."""
    start = page.index(f">{heading}")
    end = page.find("<h2", start)
    return page[start:end if end != -1 else None]


def test_due_and_overdue_come_first_then_upcoming(queue, make_callback):
    make_callback(day=date(2026, 12, 2), window="morning")
    make_callback(day=date(2026, 11, 30), window="afternoon", phone_number=LANDLINE)
    make_callback(day=date(2026, 11, 27), window="morning", region="durham")  # last Friday: overdue
    page = queue().get_data(as_text=True)
    due = section(page, "Due today and overdue")
    assert "Fri 27 Nov, 9am–12 noon" in due and "Mon 30 Nov, 12 noon–5pm" in due
    assert due.index("Fri 27 Nov") < due.index("Mon 30 Nov")
    assert "Overdue" in due
    assert "01642 123456" in due  # staff see the whole number
    upcoming = section(page, "Upcoming")
    assert "Wed 2 Dec, 9am–12 noon" in upcoming and "Mon 30 Nov" not in upcoming


def test_times_are_london_times_across_the_clock_change(client, staff_login, make_callback, clock):
    clock.moment = utc(2026, 6, 1, 7)  # British Summer Time
    staff_login.login()
    make_callback(day=date(2026, 6, 2))
    page = client.get("/staff/").get_data(as_text=True)
    assert "Tue 2 Jun, 9am–12 noon" in page


def test_each_row_shows_consents_reminders_and_replies(queue, make_callback, session):
    callback_id = make_callback(voicemail_ok=False, texts_ok=True)
    session.add(Reminder(callback_id=callback_id, kind="hour_before", to_number=MOBILE, due_at=utc(2026, 11, 30, 8),
                         useful_until=utc(2026, 11, 30, 9), status="sent", delivery_status="delivered"))
    session.add(InboundText(message_sid="SM1", from_number=MOBILE, body="See you then", command="other",
                            callback_id=callback_id))
    session.commit()
    page = queue().get_data(as_text=True)
    assert "Voicemail: no" in page and "Texts: yes" in page
    assert "Hour before: sent, delivered" in page
    assert "1: latest “See you then”" in page


@pytest.mark.parametrize("problem, reason", [
    ({"reminder": "unknown"}, "Not known whether a reminder text went"),
    ({"reminder": "failed"}, "A reminder text failed"),
    ({"delivery": "undelivered"}, "A reminder text failed"),
    ({"status": "rearrange"}, "Asked to rearrange by text"),
])
def test_items_flagged_by_the_clock_need_attention(queue, make_callback, session, problem, reason):
    make_callback(day=date(2026, 12, 3))  # a quiet one, not flagged
    callback_id = make_callback(day=date(2026, 12, 2))
    if "status" in problem:
        session.get(Callback, callback_id).status = problem["status"]
    else:
        session.add(Reminder(callback_id=callback_id, kind="day_before", to_number=MOBILE, due_at=utc(2026, 12, 1, 11),
                             useful_until=utc(2026, 12, 2, 9), status=problem.get("reminder", "sent"),
                             delivery_status=problem.get("delivery")))
    session.commit()
    flagged = section(queue().get_data(as_text=True), "Needs attention")
    assert "Needs attention (1)" in flagged
    assert reason in flagged and "Wed 2 Dec" in flagged and "Thu 3 Dec" not in flagged


def test_new_voicemails_are_listed(queue, session):
    session.add(Voicemail(recording_sid="RE1", from_number=MOBILE, region="durham", duration_seconds=42))
    session.add(Voicemail(recording_sid="RE2", from_number=LANDLINE, region="durham", status="actioned"))
    session.commit()
    voicemails = section(queue().get_data(as_text=True), "New voicemails")
    assert "New voicemails (1)" in voicemails and "07911 123456" in voicemails and "42 seconds" in voicemails


def test_filter_by_region_status_and_mine(queue, make_callback, session, staff_login):
    cleveland = make_callback(region="cleveland")
    durham = make_callback(region="durham")
    done = make_callback(region="durham")
    session.get(Callback, done).status = "completed"
    session.get(Callback, cleveland).assigned_to_id = 1
    session.commit()

    def shown(query):
        page = queue(query).get_data(as_text=True)
        return {i for i in (cleveland, durham, done) if f'href="/staff/callbacks/{i}"' in page}

    assert shown("") == {cleveland, durham}
    assert shown("?region=durham") == {durham}
    assert shown("?region=durham&status=completed") == {done}
    assert shown("?status=all") == {cleveland, durham, done}
    assert shown("?mine=1") == {cleveland}


@pytest.mark.parametrize("query, message", [
    ("?region=narnia", "There is no region “narnia”"),
    ("?status=lost", "There is no status “lost”"),
    ("?mine=maybe", "either ticked or not"),
])
def test_bad_filters_get_a_clear_message(queue, query, message):
    response = queue(query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_viewing_the_queue_is_audited_with_the_records_shown(queue, make_callback, session):
    first, second = make_callback(), make_callback()
    queue()
    event = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "queue")).one()
    assert (event.action, event.staff_id) == ("view", 1)
    assert f"callbacks [{first}, {second}]" in event.detail
    assert "+44" not in event.detail


def test_a_long_queue_is_cut_to_a_sane_length(queue, make_callback, monkeypatch):
    from ivr.staff import queue as queue_module

    monkeypatch.setattr(queue_module, "LIMIT", 2)
    for _ in range(3):
        make_callback(day=date(2026, 12, 2))
    page = queue().get_data(as_text=True)
    assert "Showing the first 2 of 3" in page
