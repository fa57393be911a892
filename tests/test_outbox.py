"""The outbox the clock works: claiming due texts, the rule that holds one back, and when a text
Twilio turned away for now is tried again. (The clock sending through it is test_scheduler.py.)"""

import random
from datetime import date, time, timedelta

import pytest

from ivr import outbox
from ivr.hours import london_time
from ivr.models import CallbackStatus, OptOut, Reminder, ReminderStatus
from tests.conftest import MOBILE, book, utc

MONDAY = date(2026, 11, 30)
BOOKED = utc(2026, 11, 26, 10)
DAY_BEFORE = utc(2026, 11, 29, 11)  # Sunday 11am
HOUR_BEFORE = utc(2026, 11, 30, 8)
WINDOW = (london_time(MONDAY, time(9)), london_time(MONDAY, time(12)))


def test_a_claim_takes_at_most_its_batch_oldest_first(session):
    for n in range(4):
        book(session, *WINDOW, BOOKED, number=f"+4479111234{n:02d}")
    session.commit()
    claimed = outbox.claim_due_reminders(session, HOUR_BEFORE, 3, "clock-a")
    rows = [session.get(Reminder, i) for i in claimed]
    assert len(claimed) == 3 and all(r.kind == "day_before" and r.claimed_by == "clock-a" for r in rows)
    assert len(outbox.claim_due_reminders(session, HOUR_BEFORE, 10, "clock-b")) == 5
    session.rollback()  # a claim is part of its caller's transaction (not committed on its own)
    assert outbox.claim_due_reminders(session, HOUR_BEFORE, 3, "clock-c") == claimed


def test_a_stop_withdrawn_while_the_clock_weighed_a_text_puts_it_back_to_go_once(session):
    book(session, *WINDOW, BOOKED)
    session.add(OptOut(phone_number=MOBILE, opted_out_at=BOOKED))  # not yet carried out: the claim is in flight
    session.commit()
    [day_before] = outbox.claim_due_reminders(session, DAY_BEFORE, 100, "clock-a")
    session.commit()
    assert outbox.begin_send(session, day_before, "clock-a", DAY_BEFORE) is None  # the STOP holds it
    session.commit()
    session.delete(session.get(OptOut, MOBILE))  # START arrives just after the clock saw the STOP
    session.commit()
    assert outbox.settle_unsendable(session, day_before, "clock-a", DAY_BEFORE).status == ReminderStatus.PENDING
    session.commit()
    assert outbox.claim_due_reminders(session, DAY_BEFORE, 100, "clock-a") == [day_before]
    text = outbox.begin_send(session, day_before, "clock-a", DAY_BEFORE)
    assert (text.id, text.to_number) == (day_before, MOBILE)  # it may go now...
    assert outbox.begin_send(session, day_before, "clock-a", DAY_BEFORE) is None  # ...and only once


@pytest.mark.parametrize(("meanwhile", "now", "reason"), [
    (lambda session, callback: None, BOOKED, None),
    (lambda session, callback: session.add(OptOut(phone_number=MOBILE, opted_out_at=BOOKED)), BOOKED,
     outbox.Held.OPTED_OUT),
    (lambda session, callback: setattr(callback, "status", CallbackStatus.REARRANGE), BOOKED,
     outbox.Held.NOT_EXPECTED),
    (lambda session, callback: None, WINDOW[0] - timedelta(seconds=59), outbox.Held.TOO_LATE),
], ids=["may go", "said stop", "callback not expected", "window about to open"])
def test_held_reminders_says_why_each_text_still_to_go_would_be_held_back(session, meanwhile, now, reason):
    callback = book(session, *WINDOW, BOOKED)
    gone, still_to_go = sorted(callback.reminders, key=lambda r: r.due_at)
    gone.status = ReminderStatus.SENT  # nothing left to hold
    meanwhile(session, callback)  # what the staff page shows before the clock has caught up
    session.flush()
    assert outbox.held_reminders(session, callback.id, now) == ({still_to_go.id: reason} if reason else {})


def test_a_text_turned_away_for_now_waits_longer_each_time_but_never_over_15_minutes():
    rng = random.Random(2026)
    assert timedelta(seconds=15) <= outbox.backoff(1, rng) <= timedelta(seconds=30)
    assert timedelta(seconds=30) <= outbox.backoff(2, rng) <= timedelta(seconds=60)
    assert all(timedelta(minutes=7, seconds=30) <= outbox.backoff(n, rng) <= timedelta(minutes=15) for n in (6, 20))
    # Many refused at once do not all come back at the same second.
    assert len({outbox.backoff(1, rng).seconds for _ in range(20)}) > 3
