"""Planning reminder texts: when they go, what they say, and cancelling or replanning them."""

import re
from datetime import date, datetime, time, timedelta

import pytest

from ivr import reminders, wording
from ivr.hours import london, london_time
from ivr.models import OptOut, Reminder, ReminderStatus
from tests.conftest import MOBILE, book, utc
from tests.twilio_double import num_segments


def window(day: date, starts: time = time(9), ends: time = time(12)) -> tuple[datetime, datetime]:
    return london_time(day, starts), london_time(day, ends)


def plan(session, day, now, starts=time(9), ends=time(12), **kwargs):
    callback = book(session, *window(day, starts, ends), now, **kwargs)
    return [(r.kind, r.due_at) for r in sorted(callback.reminders, key=lambda r: r.due_at)]


def test_a_morning_callback_gets_a_text_the_day_before_and_an_hour_before(session):
    callback = book(session, *window(date(2026, 11, 30)), now=utc(2026, 11, 26, 10))
    day_before, hour_before = sorted(callback.reminders, key=lambda r: r.due_at)
    assert (day_before.kind, day_before.due_at) == ("day_before", utc(2026, 11, 29, 11))  # Sunday 11am
    assert (hour_before.kind, hour_before.due_at) == ("hour_before", utc(2026, 11, 30, 8))
    for reminder in (day_before, hour_before):
        assert reminder.status == ReminderStatus.PENDING
        assert reminder.to_number == MOBILE
        assert reminder.useful_until == callback.window_start
        assert "Mon 30 Nov, 9am-12 noon" in reminder.body


@pytest.mark.parametrize("booked_at, expected", [
    (utc(2026, 11, 29, 10, 59), ["day_before", "hour_before"]),
    (utc(2026, 11, 29, 11, 0), ["hour_before"]),  # the day-before time has come: not sent late
    (utc(2026, 11, 30, 7, 59), ["hour_before"]),
    (utc(2026, 11, 30, 8, 0), []),
])
def test_no_reminder_whose_time_has_passed_at_booking(session, booked_at, expected):
    assert [kind for kind, _ in plan(session, date(2026, 11, 30), booked_at)] == expected


def test_no_texts_without_consent_or_after_stop(session):
    assert plan(session, date(2026, 11, 30), utc(2026, 11, 26), texts_ok=False) == []
    session.add(OptOut(phone_number=MOBILE, opted_out_at=utc(2026, 11, 1)))
    session.flush()
    assert plan(session, date(2026, 11, 30), utc(2026, 11, 26)) == []


@pytest.mark.parametrize("day, starts, expected_hour_before", [
    # An 8:30am window: 7:30am is in the quiet hours, so the evening before at 7:30pm.
    (date(2026, 12, 1), time(8, 30), utc(2026, 11, 30, 19, 30)),
    # 8am is the first minute texts may go again.
    (date(2026, 12, 1), time(9), utc(2026, 12, 1, 8)),
    # A 9pm window (made by hand): 8pm is already quiet, so 7:30pm.
    (date(2026, 12, 1), time(21), utc(2026, 12, 1, 19, 30)),
])
def test_reminders_never_fall_in_the_quiet_hours(session, day, starts, expected_hour_before):
    planned = dict(plan(session, day, utc(2026, 11, 20), starts=starts, ends=time(22)))
    assert planned["hour_before"] == expected_hour_before
    for due in planned.values():
        assert time(8) <= london(due).time() < time(20)


def test_spring_forward_week(session):
    # Clocks go forward at 1am on Sunday 29 March 2026: London is UTC+1 from then on.
    planned = dict(plan(session, date(2026, 3, 30), utc(2026, 3, 26, 12)))
    assert planned == {"day_before": utc(2026, 3, 29, 10), "hour_before": utc(2026, 3, 30, 7)}
    early = dict(plan(session, date(2026, 3, 30), utc(2026, 3, 26, 12), starts=time(8, 30)))
    assert early["hour_before"] == utc(2026, 3, 29, 18, 30)  # 7:30pm BST on the Sunday


def test_fall_back_week(session):
    # Clocks go back at 2am BST on Sunday 25 October 2026: London is UTC again from then on.
    planned = dict(plan(session, date(2026, 10, 26), utc(2026, 10, 22, 12)))
    assert planned == {"day_before": utc(2026, 10, 25, 11), "hour_before": utc(2026, 10, 26, 8)}
    sunday = dict(plan(session, date(2026, 10, 25), utc(2026, 10, 22, 12), starts=time(8, 30)))
    assert sunday == {"day_before": utc(2026, 10, 24, 10), "hour_before": utc(2026, 10, 24, 18, 30)}


def test_replanning_cancels_the_old_texts_and_plans_new_ones(session):
    now = utc(2026, 11, 26, 10)
    callback = book(session, *window(date(2026, 11, 30)), now)
    callback.window_start, callback.window_end = window(date(2026, 12, 2), time(12), time(17))
    new = reminders.replan_reminders(session, callback, now)
    session.flush()
    session.expire_all()
    statuses = sorted((r.status, r.due_at, r.body) for r in callback.reminders)
    assert [s for s, _, _ in statuses].count(ReminderStatus.CANCELLED) == 2
    assert [r.due_at for r in new] == [utc(2026, 12, 1, 11), utc(2026, 12, 2, 11)]
    assert all("Wed 2 Dec, 12 noon-5pm" in r.body for r in new)


def test_cancelling_leaves_texts_already_sent_alone(session):
    callback = book(session, *window(date(2026, 11, 30)), utc(2026, 11, 26))
    first, _second = sorted(callback.reminders, key=lambda r: r.due_at)
    first.status = ReminderStatus.SENT
    session.flush()
    assert reminders.cancel_reminders(session, callback, utc(2026, 11, 29, 12)) == 1
    session.expire_all()
    assert sorted(r.status for r in callback.reminders) == [ReminderStatus.CANCELLED, ReminderStatus.SENT]


def test_stop_cancels_every_pending_text_to_the_number_and_start_plans_them_again(session):
    callback = book(session, *window(date(2026, 11, 30)), utc(2026, 11, 26))
    assert reminders.opt_out(session, MOBILE, utc(2026, 11, 27)) == 2
    assert session.get(OptOut, MOBILE) is not None
    replanned = reminders.opt_in(session, MOBILE, utc(2026, 11, 29, 12))
    assert [r.kind for r in replanned] == ["hour_before"]  # the day-before time has passed
    assert session.get(OptOut, MOBILE) is None
    assert [e.kind for e in callback.events][-2:] == ["texts_stopped", "texts_restarted"]


# --- the words ----------------------------------------------------------------------------------

FORBIDDEN = re.compile(r"crime|victim|offend|justice|police|abuse|restorative|vcas|care|advice|harm|court|"
                       r"cleveland|durham|darlington|helpline", re.IGNORECASE)


@pytest.mark.parametrize("moment, face", [
    (utc(2026, 11, 30, 9), "9am"), (utc(2026, 11, 30, 9, 30), "9:30am"), (utc(2026, 11, 30, 12), "12 noon"),
    (utc(2026, 11, 30, 17), "5pm"), (utc(2026, 11, 30, 12, 15), "12:15pm"), (utc(2026, 11, 30, 0), "12 midnight"),
    (utc(2026, 6, 30, 8), "9am"),  # British Summer Time
])
def test_times_read_the_way_people_write_them(moment, face):
    assert wording.text_window(moment, moment).endswith(f", {face}-{face}")


def every_text():
    """Each reminder for each window on days with long and short names, and each answer."""
    texts = []
    for day in (date(2026, 11, 30), date(2026, 9, 23), date(2026, 12, 31), date(2027, 1, 1)):
        for starts, ends in ((time(9), time(12)), (time(12), time(17)), (time(9, 30), time(12, 30))):
            for kind in reminders.Kind:
                texts.append(reminders.render_text(kind, when=wording.text_window(*window(day, starts, ends))))
    return texts + [reminders.render_text(name) for name in ("reply_yes", "reply_change", "reply_help")]


@pytest.mark.parametrize("text", every_text())
def test_every_text_is_one_discreet_gsm_segment(text):
    assert len(text) <= 160 and num_segments(text) == 1, text
    assert not FORBIDDEN.search(text), text


@pytest.mark.parametrize("kind", list(reminders.Kind))
def test_reminders_say_how_to_reply(kind):
    text = reminders.render_text(kind, when="Mon 30 Nov, 9am-12 noon")
    assert "Mon 30 Nov, 9am-12 noon" in text
    for word in ("YES", "CHANGE", "STOP"):
        assert re.search(rf"\b{word}\b", text)


def test_the_stored_text_is_what_will_be_sent(session):
    callback = book(session, *window(date(2026, 11, 30)), utc(2026, 11, 26))
    assert {r.body for r in callback.reminders} == {
        reminders.render_text(kind, when="Mon 30 Nov, 9am-12 noon") for kind in reminders.Kind}
    assert session.query(Reminder).count() == 2
