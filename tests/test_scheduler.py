"""The clock process: due reminders go exactly once, through the real twilio SDK to a local
double; failures, crashes, quiet hours and opt-outs are handled as a recipient or staff expect."""

import json
import os
import subprocess
import sys
import threading
import time as time_module
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from ivr import create_app
from ivr.db.engine import CLOCK
from ivr.hours import LONDON, london_time
from ivr.models import Callback, CallbackStatus, OptOut, Reminder, ReminderStatus
from scheduler import Clock, build_scheduler, run_once
from scheduler.dispatch import Dispatcher, SendingRate
from tests.conftest import MOBILE, PUBLIC_URL, book, utc
from tests.services import operator_env

MONDAY = date(2026, 11, 30)
BOOKED = utc(2026, 11, 26, 10)
DAY_BEFORE = utc(2026, 11, 29, 11)  # Sunday 11am
HOUR_BEFORE = utc(2026, 11, 30, 8)
WINDOW = (london_time(MONDAY, time(9)), london_time(MONDAY, time(12)))


@pytest.fixture
def clock(clock):
    """Each test starts when the callbacks are booked, and moves the clock on from there."""
    clock.moment = BOOKED
    return clock


@pytest.fixture
def app_config(app_config, double, clock):
    app_config.update(TWILIO_ACCOUNT_SID=double.account_sid, TWILIO_AUTH_TOKEN=double.auth_token,
                      TWILIO_API_BASE_URL=double.base_url, TWILIO_HTTP_TIMEOUT=1.0,
                      SMS_RATE_PER_SECOND=0)
    return app_config


def booked(app, starts=WINDOW[0], ends=WINDOW[1], number=MOBILE):
    from ivr.db.sessions import session_scope

    with session_scope(app) as session:
        return book(session, starts, ends, BOOKED, number=number).id


def reminders_of(app, callback_id):
    from ivr.db.sessions import session_scope

    with session_scope(app) as session:
        rows = session.scalars(select(Reminder).where(Reminder.callback_id == callback_id).order_by(Reminder.due_at)).all()
        session.expunge_all()
        return rows


def callback(app, callback_id):
    from ivr.db.sessions import session_scope

    with session_scope(app) as session:
        found = session.get(Callback, callback_id)
        found.events  # load the history before the session closes
        session.expunge_all()
        return found


def test_a_due_reminder_is_sent_once_with_its_status_callback_and_validity(app, double, clock):
    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    assert run_once(app) == {"sent": 1}
    (message,) = double.messages
    assert message.form["To"] == MOBILE
    assert "Mon 30 Nov, 9am-12 noon" in message.form["Body"]
    assert message.form["StatusCallback"] == PUBLIC_URL + "/sms/status"
    assert message.form["ValidityPeriod"] == "36000"  # Twilio's longest: the window is 21 hours away
    day_before, hour_before = reminders_of(app, callback_id)
    assert day_before.status == ReminderStatus.SENT and day_before.message_sid.startswith("SM")
    assert hour_before.status == ReminderStatus.PENDING

    assert run_once(app) == {}  # nothing new is due: nothing is sent again
    clock.moment = HOUR_BEFORE + timedelta(minutes=1)
    assert run_once(app) == {"sent": 1}
    assert double.messages[1].form["ValidityPeriod"] == str(59 * 60)  # never beyond the window's start
    assert len(double.messages) == 2


def test_without_an_account_texts_are_simulated_and_logged_masked(app_config, clock, caplog):
    app_config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)
    app = create_app(app_config)
    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    with caplog.at_level("INFO"):
        assert run_once(app) == {"simulated": 1}
    sent = reminders_of(app, callback_id)[0]
    assert sent.simulated and sent.status == ReminderStatus.SENT and sent.message_sid is None
    assert "day_before reminder" in caplog.text and "*********456" in caplog.text
    assert MOBILE not in caplog.text and sent.body not in caplog.text


def test_in_the_quiet_hours_nothing_goes_until_8am(app, double, clock):
    # An 8:30am window: its hour-before text is due at 7:30pm the evening before.
    callback_id = booked(app, london_time(MONDAY, time(8, 30)), london_time(MONDAY, time(12)))
    clock.moment = utc(2026, 11, 29, 21)  # the clock was down until 9pm
    assert run_once(app) == {}
    assert [r.status for r in reminders_of(app, callback_id)] == [ReminderStatus.PENDING] * 2
    clock.moment = utc(2026, 11, 30, 8)
    assert run_once(app) == {"sent": 2}  # both still useful before 8:30am


def test_reminders_that_fell_due_while_the_clock_was_down_are_missed_once_useless(app, double, clock):
    callback_id = booked(app)
    clock.moment = WINDOW[0] + timedelta(minutes=5)
    assert run_once(app) == {"missed": 2}
    assert double.messages == []
    assert [r.status for r in reminders_of(app, callback_id)] == [ReminderStatus.MISSED] * 2


def test_a_number_that_said_stop_gets_nothing_even_if_its_texts_were_already_queued(app, double, clock):
    from ivr.db.sessions import session_scope

    callback_id = booked(app)
    with session_scope(app) as session:  # the opt-out arrives without cancelling (as if mid-pass)
        session.add(OptOut(phone_number=MOBILE, opted_out_at=BOOKED))
    clock.moment = DAY_BEFORE
    assert run_once(app) == {"cancelled": 1}
    assert double.messages == []
    assert reminders_of(app, callback_id)[0].status == ReminderStatus.CANCELLED


def claimed_by(dispatcher, moment):
    """What the clock claimed at `moment`, before it sends any of it (committed, as in a pass)."""
    from ivr import outbox
    from ivr.db.sessions import session_scope

    with session_scope(dispatcher.app) as session:
        return outbox.claim_due_reminders(session, moment, 100, dispatcher.worker)


def test_a_stop_that_arrives_after_the_clock_claimed_the_text_still_stops_it(app, double, clock, twilio):
    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    dispatcher = Dispatcher(app)
    claimed = claimed_by(dispatcher, DAY_BEFORE)
    # A claimed text can wait seconds for its turn (10 a second); the STOP comes in meanwhile.
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "5" * 32, "From": MOBILE, "Body": "STOP"})
    assert dispatcher.send_claimed(claimed) == {"cancelled": 1}
    assert double.messages == []
    assert reminders_of(app, callback_id)[0].status == ReminderStatus.CANCELLED


def test_a_text_claimed_in_time_but_stalled_until_the_window_opened_is_missed_not_sent(app, double, clock):
    callback_id = booked(app)
    dispatcher = Dispatcher(app)
    claimed = claimed_by(dispatcher, DAY_BEFORE)
    clock.moment = WINDOW[0]  # the clock stalls between its claim and the send, until the window opens
    assert dispatcher.send_claimed(claimed) == {"missed": 1}
    assert run_once(app) == {"missed": 1}  # the hour-before text, due meanwhile, is too late as well
    assert double.messages == []
    assert [r.status for r in reminders_of(app, callback_id)] == [ReminderStatus.MISSED] * 2


@pytest.mark.parametrize("status", [CallbackStatus.CANCELLED, CallbackStatus.REARRANGE, CallbackStatus.COMPLETED])
def test_no_reminder_for_a_callback_no_longer_expected(app, double, clock, status):
    from ivr.db.sessions import session_scope

    callback_id = booked(app)
    with session_scope(app) as session:
        session.get(Callback, callback_id).status = status
    clock.moment = DAY_BEFORE
    run_once(app)
    assert double.messages == []


# --- failures -------------------------------------------------------------------------------------


def test_twilio_saying_slow_down_is_retried_later_with_the_code_kept(app, double, clock):
    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    double.queue(429, code=20429)
    assert run_once(app) == {"retrying": 1}
    retry = reminders_of(app, callback_id)[0]
    assert retry.status == ReminderStatus.PENDING and retry.error_code == 20429
    assert DAY_BEFORE + timedelta(seconds=15) <= retry.due_at <= DAY_BEFORE + timedelta(seconds=30)
    assert run_once(app) == {}  # not before its time
    clock.moment = retry.due_at
    assert run_once(app) == {"sent": 1}
    assert len(double.messages) == 1
    assert reminders_of(app, callback_id)[0].attempts == 2


def test_a_retry_that_would_come_too_late_is_a_failure_staff_see(app, double, clock):
    callback_id = booked(app)
    clock.moment = WINDOW[0] - timedelta(seconds=70)  # both due; the window opens in 70 seconds
    double.queue(429, code=20429, times=2)
    assert run_once(app) == {"failed": 2}
    assert {e.kind for e in callback(app, callback_id).events} >= {"text_failed"}


@pytest.mark.parametrize("answer", [500, "hang"])
def test_an_answer_that_leaves_it_unknown_is_flagged_and_never_resent(app, double, clock, answer):
    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    double.queue(answer)
    assert run_once(app) == {"unknown": 1}
    clock.moment = HOUR_BEFORE
    assert run_once(app) == {"sent": 1}  # only the other reminder
    day_before = reminders_of(app, callback_id)[0]
    assert day_before.status == ReminderStatus.UNKNOWN
    notes = [e for e in callback(app, callback_id).events if e.kind == "text_unknown"]
    assert len(notes) == 1 and "not be resent" in notes[0].detail
    assert len(double.requests) == 2


def test_twilio_saying_the_number_opted_out_stops_all_its_texts(app, double, clock):
    from ivr.db.sessions import session_scope

    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    double.queue(400, code=21610)
    assert run_once(app) == {"failed": 1}
    day_before, hour_before = reminders_of(app, callback_id)
    assert (day_before.status, day_before.error_code) == (ReminderStatus.FAILED, 21610)
    assert hour_before.status == ReminderStatus.CANCELLED
    with session_scope(app) as session:
        assert session.get(OptOut, MOBILE) is not None


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_or_landline_number_fails_for_good(app, double, clock, code):
    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    double.queue(400, code=code)
    assert run_once(app) == {"failed": 1}
    clock.moment = DAY_BEFORE + timedelta(hours=1)
    assert run_once(app) == {}
    assert reminders_of(app, callback_id)[0].error_code == code


# --- crashes and overdue callbacks ----------------------------------------------------------------


def test_rows_left_by_a_crashed_clock_are_recovered_and_a_maybe_sent_text_never_resent(app, double, clock):
    from ivr.db.sessions import session_scope

    first = booked(app)
    second = booked(app, number="+447911123457")
    with session_scope(app) as session:
        for callback_id, status in ((first, ReminderStatus.SENDING), (second, ReminderStatus.CLAIMED)):
            row = session.scalars(select(Reminder).where(Reminder.callback_id == callback_id)).first()
            row.status, row.claimed_by, row.claimed_at = status, "crashed:1:x", DAY_BEFORE
    clock.moment = DAY_BEFORE + timedelta(minutes=2)
    assert run_once(app) == {}  # a live clock may still be working on them
    clock.moment = DAY_BEFORE + timedelta(minutes=6)
    assert run_once(app) == {"released": 1, "unknown": 1, "sent": 1}
    assert [m.form["To"] for m in double.messages] == ["+447911123457"]
    assert reminders_of(app, first)[0].status == ReminderStatus.UNKNOWN
    assert "text_unknown" in [e.kind for e in callback(app, first).events]


def test_callbacks_whose_window_passed_with_no_outcome_become_overdue(app, clock):
    from ivr.db.sessions import session_scope

    waiting, rearranging = booked(app), booked(app, number="+447911123457")
    with session_scope(app) as session:
        session.get(Callback, rearranging).status = CallbackStatus.REARRANGE
    clock.moment = WINDOW[1] - timedelta(minutes=1)
    assert "overdue" not in run_once(app)
    clock.moment = WINDOW[1]
    assert run_once(app)["overdue"] == 1
    assert callback(app, waiting).status == CallbackStatus.OVERDUE
    assert callback(app, waiting).events[-1].kind == "overdue"
    assert callback(app, rearranging).status == CallbackStatus.REARRANGE


# --- pace, concurrency, the process ---------------------------------------------------------------


def busiest_second(moments: list[float]) -> int:
    """The most of `moments` (seconds) that fall in any one second."""
    return max(sum(1 for t in moments if start <= t < start + 1) for start in moments)


def test_the_sending_rate_never_lets_more_than_its_number_go_in_a_second():
    rate, sends = SendingRate(8), []
    for _ in range(20):
        with rate.turn():
            sends.append(time_module.monotonic())
    assert busiest_second(sends) == 8
    assert sends[-1] - sends[0] >= 2  # 20 texts: the 9th and 17th each wait for a second to pass


def test_a_pass_keeps_to_the_sending_rate_as_twilio_sees_it(app, double, clock):
    for n in range(12):
        booked(app, number=f"+4479111234{n:02d}")
    clock.moment = DAY_BEFORE
    assert Clock(app, SendingRate(5)).run_once() == {"sent": 12}
    arrivals = [m.received_at for m in double.messages]
    assert busiest_second(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 2  # 12 texts at 5 a second


def test_two_clocks_at_once_send_each_text_exactly_once(app_config, double, clock):
    first, second = create_app(app_config, patience=CLOCK), create_app(app_config, patience=CLOCK)
    numbers = [f"+4479111{n:05d}" for n in range(150)]
    for number in numbers:
        booked(first, number=number)
    clock.moment = HOUR_BEFORE  # both reminders of every callback are due: 300 texts
    start = threading.Barrier(2)
    results = []

    def run(app):
        start.wait()
        try:
            # Paced so that neither clock can finish everything before the other has begun.
            results.append(Clock(app, SendingRate(400)).send_due_reminders())
        except Exception as error:  # a thread's exception would otherwise go unnoticed
            results.append(error)

    threads = [threading.Thread(target=run, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = [(m.form["To"], m.form["Body"]) for m in double.messages]
    assert len(bodies) == 300 and len(set(bodies)) == 300
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["sent"] for r in results) == 300
    assert all(r["sent"] > 0 for r in results), f"both clocks should have taken a share: {results}"
    for app in (first, second):
        app.extensions["db.engine"].dispose()


def test_the_scheduler_ticks_in_london_time_one_job_instance_at_a_time(app):
    scheduler = build_scheduler(Clock(app))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"send_due_reminders", "mark_overdue_callbacks", "recover_stuck_sends", "apply_retention",
                         "store_spooled_messages"}
    assert str(scheduler.timezone) == str(LONDON)
    send = jobs["send_due_reminders"]
    assert send.trigger.interval == timedelta(seconds=app.config["CLOCK_TICK_SECONDS"])
    assert send.coalesce is True and send.max_instances == 1 and send.misfire_grace_time > 0
    nightly = jobs["apply_retention"].trigger.get_next_fire_time(None, datetime(2026, 7, 1, 12, tzinfo=LONDON))
    assert nightly == datetime(2026, 7, 2, 3, tzinfo=LONDON)  # 3am London, in summer time too


def test_the_clock_applies_retention_with_the_configured_ages(app_config, double, clock):
    from ivr.db.sessions import session_scope
    from ivr.models import Voicemail

    app_config.update(RETENTION_RECORDING_DAYS=7)
    app = create_app(app_config)
    double.add_recording("RE-week-old", b"audio")
    with session_scope(app) as session:
        session.add(Voicemail(recording_sid="RE-week-old", recording_url="https://api.twilio.com/x", region="vcas",
                              created_at=clock.moment - timedelta(days=8)))
    summary = Clock(app).run_once()
    assert double.deleted_recordings == ["RE-week-old"]
    assert summary["retention_recordings_deleted"] == 1
    with session_scope(app) as session:
        assert session.scalar(select(Voicemail)).recording_url is None
    app.extensions["db.engine"].dispose()


def test_the_web_app_never_starts_a_scheduler(database_url):
    code = ("import sys, ivr; ivr.create_app({'DATABASE_URL': %r}); "
            "sys.exit(any(m.split('.')[0] in ('apscheduler', 'scheduler') for m in sys.modules))" % database_url)
    assert subprocess.run([sys.executable, "-c", code], cwd=os.getcwd()).returncode == 0


def test_python_m_scheduler_once_runs_one_pass_and_prints_it(database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url}
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "scheduler", "--once"], env=env, cwd=os.getcwd(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), dict)


def test_at_a_pretend_time_the_clock_sends_the_reminder_a_pretend_call_booked(database_url, tmp_path):
    """The README's try-out: book by the terminal phone at a pretend time, then one pass of the clock
    at a later pretend time sends the reminder, as commands in a terminal, with no database edits."""
    env = operator_env({"DATABASE_URL": database_url, "SPOOL_DIR": str(tmp_path / "spool"), "LOG_FORMAT": "text"})

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *command], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)

    # Thursday 6pm: a callback for Friday morning, texts agreed; the day-before text is already too late.
    booked = run("-m", "flask", "--app", "ivr", "call", "--at", "2026-12-03 18:00", "--keys", "4,1,1,1,1,1")
    assert "We'll call you on Friday the 4th of December, in the morning" in booked.stdout, booked.stderr
    early = run("-m", "scheduler", "--once", "--at", "2026-12-04 07:59")
    assert json.loads(early.stdout) == {}, early.stderr  # the hour-before text is due at 8am
    due = run("-m", "scheduler", "--once", "--at", "2026-12-04 08:00")
    assert json.loads(due.stdout) == {"simulated": 1}, due.stderr
    assert "hour_before reminder 1 for callback 1 to **********456: simulated" in due.stderr
    wrong = run("-m", "scheduler", "--once", "--at", "Friday")
    assert wrong.returncode == 2 and "write it like 2026-12-07 11:00 (London time)" in wrong.stderr


# --- a change made by staff reaches texts already claimed ---------------------------------------


@pytest.mark.parametrize("change", ["reschedule", "cancel", "not safe"])
def test_a_change_made_between_the_claim_and_the_send_stops_the_old_text(app_config, double, clock, change):
    """Two clocks run; one has claimed the day-before text when an officer changes the callback:
    the text about the old time never goes, and a rescheduled callback's new texts go instead."""
    from ivr import callbacks
    from ivr.db.sessions import session_scope

    first, second = create_app(app_config), create_app(app_config)
    callback_id = booked(first)
    clock.moment = DAY_BEFORE
    taking = Dispatcher(first)
    claimed = claimed_by(taking, DAY_BEFORE)
    with session_scope(second) as session:  # the officer, on another worker
        callback = session.get(Callback, callback_id)
        if change == "reschedule":
            tuesday = callbacks.slot(date(2026, 12, 1), second.extensions["helpline"].callback_window("afternoon"))
            callbacks.reschedule(session, callback, tuesday, now=DAY_BEFORE, staff_id=None)
        elif change == "cancel":
            callbacks.cancel(session, callback, now=DAY_BEFORE, staff_id=None)
        else:
            callbacks.record_attempt(session, callback, "not_safe", now=DAY_BEFORE, staff_id=None)
    assert taking.send_claimed(claimed) == ({"cancelled": 1} if change != "not safe" else {"held": 1})
    assert Clock(second).send_due_reminders() == {}  # nor does the other clock send it
    assert double.messages == []
    if change == "reschedule":
        clock.moment = utc(2026, 11, 30, 11)  # Monday 11am: the day before Tuesday's window
        assert run_once(second) == {"sent": 1}
        assert "Tue 1 Dec, 12 noon-5pm" in double.messages[0].form["Body"]
    for app in (first, second):
        app.extensions["db.engine"].dispose()


def test_the_final_check_refuses_a_text_whose_window_is_no_longer_the_callbacks(app, double, clock):
    """Even a text that nothing cancelled (a change written past the usual functions) never tells
    the old time: the check in the statement that marks it sending compares the windows."""
    from ivr.db.sessions import session_scope

    callback_id = booked(app)
    clock.moment = DAY_BEFORE
    dispatcher = Dispatcher(app)
    claimed = claimed_by(dispatcher, DAY_BEFORE)
    with session_scope(app) as session:
        session.get(Callback, callback_id).window_start += timedelta(days=1)
    assert dispatcher.send_claimed(claimed) == {"cancelled": 1}
    assert double.messages == []
