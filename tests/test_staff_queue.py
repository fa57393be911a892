"""The queue: due today and overdue first, then upcoming, in London time; flagged items; new
voicemails; filters by region, status and assignment, with a clear answer to bad values."""

import html
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from ivr.models import AuditEvent, Callback, InboundText, Reminder, Voicemail
from tests.conftest import LANDLINE, MOBILE, at_london, utc

MONDAY_8AM = utc(2026, 11, 30, 8)
OTHER_LANDLINE = "+441134960123"  # ends in neither MOBILE's digits nor LANDLINE's


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
    ({"reminder": "failed", "kind": "staff"}, "An officer's text failed"),
    ({"reminder": "unknown", "kind": "staff"}, "Not known whether an officer's text went"),
    ({"status": "rearrange"}, "Asked to rearrange by text"),
])
def test_items_flagged_by_the_clock_need_attention(queue, make_callback, session, problem, reason):
    make_callback(day=date(2026, 12, 3))  # a quiet one, not flagged
    callback_id = make_callback(day=date(2026, 12, 2))
    if "status" in problem:
        session.get(Callback, callback_id).status = problem["status"]
    else:
        session.add(Reminder(callback_id=callback_id, kind=problem.get("kind", "day_before"), to_number=MOBILE,
                             due_at=utc(2026, 12, 1, 11), useful_until=utc(2026, 12, 2, 9),
                             status=problem.get("reminder", "sent"), delivery_status=problem.get("delivery")))
    session.commit()
    flagged = html.unescape(section(queue().get_data(as_text=True), "Needs attention"))
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
    ("?number=12", "by its last digits (at least 3)"),
    ("?number=abc", "by its last digits"),
    ("?number=4%C2%B2%C2%B2", "by its last digits"),
    ("?from=2026-02-30", "The “from” date must be a real date"),
    ("?to=tomorrow", "The “to” date must be a real date"),
    ("?to=9999-12-31", "The “to” date must be a real date"),
    ("?from=0001-01-01", "The “from” date must be a real date"),
    ("?from=2026-12-05&to=2026-12-01", "The “from” date is after the “to” date"),
    ("?upcoming_page=0", "The page number must be a whole number"),
    ("?due_page=x", "The page number must be a whole number"),
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


# --- at real volume: pages, search by number, a range of days -------------------------------------


def many_callbacks(session, count: int, *, region: str = "cleveland", first_day: date = date(2026, 12, 1),
                   first_number: int = 0) -> list[int]:
    """`count` open callbacks, spread over the mornings from `first_day`, each for its own number."""
    made = []
    for n in range(count):
        starts = at_london(first_day.year, first_day.month, first_day.day, 9) + timedelta(days=n // 20)
        callback = Callback(region=region, phone_number=f"+447700{900000 + first_number + n:06d}", is_mobile=True,
                            window_start=starts, window_end=starts + timedelta(hours=3), number_source="caller",
                            voicemail_ok=True, texts_ok=False, status="booked")
        session.add(callback)
        session.flush()
        made.append(callback.id)
    session.commit()
    return made


def shown_callbacks(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/staff/callbacks/([0-9]+)"', page)]


def next_page(page: str) -> str | None:
    found = re.search(r'<a href="(/staff/[^"]*)" rel="next">', page)
    return html.unescape(found.group(1)) if found else None


def test_every_callback_can_be_reached_page_by_page(queue, client, session):
    made = many_callbacks(session, 120)
    page = queue().get_data(as_text=True)
    seen = []
    while True:
        assert "Upcoming (120)" in page  # the whole list's count on every page, not the page's
        seen += shown_callbacks(section(page, "Upcoming"))
        link = next_page(section(page, "Upcoming"))
        if link is None:
            break
        page = client.get(link).get_data(as_text=True)
    assert seen == made  # each once, in the order of their windows
    assert "Showing 101 to 120 of 120" in page


def test_a_team_with_more_than_a_page_keeps_its_filter_from_page_to_page(queue, client, session):
    durham = many_callbacks(session, 60, region="durham")
    many_callbacks(session, 10, region="cleveland", first_number=500)
    first = queue("?region=durham").get_data(as_text=True)
    assert "Upcoming (60)" in first and shown_callbacks(first) == durham[:50]
    second = client.get(next_page(first)).get_data(as_text=True)
    assert "Upcoming (60)" in second and shown_callbacks(second) == durham[50:]


@pytest.mark.parametrize("typed", ["456", " 3456 ", "123-456", "07911 123456", "+44 7911 123456", "(07911) 123456"])
def test_search_by_a_whole_number_or_its_last_digits(queue, make_callback, typed):
    wanted = make_callback(phone_number=MOBILE)
    make_callback(phone_number="+447911123457")
    make_callback(phone_number=OTHER_LANDLINE)
    page = queue(f"?number={quote(typed)}").get_data(as_text=True)
    assert shown_callbacks(page) == [wanted]
    assert re.search(r"\(1\)", section(page, "Due today and overdue") + section(page, "Upcoming"))


def test_search_by_number_finds_voicemails_and_texts_too(queue, session):
    session.add_all([Voicemail(recording_sid="RE1", from_number=MOBILE, region="durham"),
                     Voicemail(recording_sid="RE2", from_number=OTHER_LANDLINE, region="durham"),
                     InboundText(message_sid="SM1", from_number=MOBILE, body="hello", command="other"),
                     InboundText(message_sid="SM2", from_number=OTHER_LANDLINE, body="hi", command="other")])
    session.commit()
    page = queue("?number=456").get_data(as_text=True)
    assert "New voicemails (1)" in page and "Texts that match no callback (1)" in page
    assert "07911 123456" in page and "0113 496 0123" not in page


def test_a_range_of_days_counts_whole_london_days(queue, make_callback, clock):
    before = make_callback(day=date(2026, 12, 1), window="afternoon")
    first = make_callback(day=date(2026, 12, 2), window="morning")
    last = make_callback(day=date(2026, 12, 3), window="afternoon")
    after = make_callback(day=date(2026, 12, 4), window="morning")
    page = queue("?from=2026-12-02&to=2026-12-03").get_data(as_text=True)
    assert shown_callbacks(page) == [first, last] and "Upcoming (2)" in page
    assert shown_callbacks(queue("?from=2026-12-04").get_data(as_text=True)) == [after]
    assert shown_callbacks(queue("?to=2026-12-01").get_data(as_text=True)) == [before]


def test_the_counts_are_of_everything_that_matches(queue, session):
    many_callbacks(session, 70)
    for n in range(60):
        session.add(Voicemail(recording_sid=f"RE{n}", from_number=MOBILE, region="durham"))
    session.commit()
    page = queue().get_data(as_text=True)
    assert "Upcoming (70)" in page and "New voicemails (60)" in page
    assert "Showing 1 to 50 of 60 new voicemails" in page


def test_a_page_past_the_end_shows_the_last(queue, session):
    made = many_callbacks(session, 55)
    page = queue("?upcoming_page=9").get_data(as_text=True)
    assert shown_callbacks(page) == made[50:] and "page 2 of 2" in page


def test_the_audit_names_only_the_callbacks_on_the_page(queue, session):
    made = many_callbacks(session, 60)
    queue("?upcoming_page=2")
    event = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "queue")).one()
    assert f"callbacks {made[50:]}" in event.detail
