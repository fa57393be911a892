"""Several web workers and two clock processes on one database behave as one service.

Real processes, as in production: gunicorn with two workers answers whole calls over HTTP, signed
as Twilio signs them; then two `python -m scheduler` clock processes run side by side against the
same database (SQLite here, or PostgreSQL when the suite runs there) and the local Twilio double.
Each reminder must reach Twilio exactly once. (The race between two claims at the same instant
is the subject of test_scheduler.py; here it is the service as deployed.)
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr.models import Callback, Reminder, ReminderStatus
from ivr.walker import Call
from tests.conftest import HELPLINE_NUMBER, PUBLIC_URL, book, production_settings
from tests.services import check_running, free_port, operator_env, started, stop, tail, wait_for

pytest.importorskip("gunicorn", reason="gunicorn is not installed, so the web workers cannot be started")

CALLERS = [f"+4479111234{n:02d}" for n in range(20)]
# Booked straight into the database beside the callers, so that the queue is longer than one
# clock's claim (scheduler.dispatch.CLAIM_BATCH) and both clocks must share it.
MORE_CALLBACKS = [f"+4479112{n:05d}" for n in range(180)]
# Paced so that one claim (100 texts) takes a clock 2.5 s to send: by then the other has started.
TEXTS_PER_SECOND_EACH = 40
UNFINISHED = (ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.SENDING)
# The real clock entry point, started at a pretend time that then runs on at the normal pace.
CLOCK_AT = ("import sys, time_machine; time_machine.travel(float(sys.argv[1]), tick=True).start(); "
            "import scheduler; sys.exit(scheduler.main([]))")


@pytest.fixture
def service_env(database_url, double, tmp_path) -> dict[str, str]:
    """What an operator would set for the web and clock processes, and nothing from this shell."""
    return operator_env(production_settings(database_url, double, tmp_path, LOG_FORMAT="text"))


@pytest.fixture
def db(database_url) -> Iterator[Session]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


class TwilioOverHttp:
    """Posts to the web workers as Twilio does: form-encoded, signed for PUBLIC_URL + path."""

    def __init__(self, base_url: str, auth_token: str):
        self.base_url, self.validator = base_url, RequestValidator(auth_token)

    def post(self, path: str, params: dict[str, str]) -> str:
        signature = self.validator.compute_signature(PUBLIC_URL + path, params)
        answer = requests.post(self.base_url + path, data=params, headers={"X-Twilio-Signature": signature},
                               timeout=10)
        assert answer.status_code == 200, f"{path} answered {answer.status_code}: {answer.text[:300]}"
        return answer.text


def book_with_texts(twilio: TwilioOverHttp, caller: str) -> Call:
    """A whole call: arrange a callback on the second day offered, in the morning, with text reminders."""
    call = Call(twilio.post, caller, HELPLINE_NUMBER).start()
    call.press("4").press("2").press("1")  # a callback; the second day (always has its morning); morning
    call.press("1").press("2")  # this number; no voicemail
    assert "Would you like a text reminder before we call?" in call.heard
    return call.press("1")


class WebWorkers:
    """gunicorn with two workers, as the Procfile's `web` runs it; its access log names the worker."""

    def __init__(self, process: subprocess.Popen, url: str, access_log: Path):
        self.process, self.url, self.access_log = process, url, access_log

    def healthy(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or the workers still loading
            return False

    def pids_that_served(self, path_prefix: str) -> set[str]:
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return {pid for pid, _method, path, _status in map(str.split, lines) if path.startswith(path_prefix)}

    def check_running(self) -> None:
        if self.process.poll() is not None and any(sign in tail(self.process.log_path)
                                                   for sign in ("Connection in use", "Can't connect")):
            pytest.skip(f"gunicorn could not start:\n{tail(self.process.log_path)}")
        check_running(self.process)


@contextmanager
def web_workers(env: dict[str, str], folder: Path) -> Iterator[WebWorkers]:
    port = free_port()
    access_log = folder / "access.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--graceful-timeout", "5", "--access-logfile", str(access_log),
               "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "ivr:create_app()"]
    with started("web", command, env, folder) as process:
        web = WebWorkers(process, f"http://127.0.0.1:{port}", access_log)
        wait_for("gunicorn to answer /healthz", web.healthy, 30, also=web.check_running)

        def both_answer() -> bool:  # health checks arriving together are shared between the workers
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: web.healthy(), range(4)))
            return len(web.pids_that_served("/healthz")) == 2

        wait_for("both gunicorn workers to answer /healthz", both_answer, 30, also=web.check_running)
        yield web


@contextmanager
def clock_processes(count: int, env: dict[str, str], pretend: datetime, folder: Path) -> Iterator[list]:
    """`count` clock processes (the real entry point) started together at the pretend time."""
    command = [sys.executable, "-c", CLOCK_AT, str(pretend.timestamp())]
    with ExitStack() as stack:
        yield [stack.enter_context(started(f"clock-{n}", command, env, folder)) for n in range(1, count + 1)]


def test_two_web_workers_and_two_clocks_send_each_reminder_exactly_once(service_env, double, db, tmp_path):
    with web_workers(service_env, tmp_path) as web:
        twilio = TwilioOverHttp(web.url, double.auth_token)
        with ThreadPoolExecutor(6) as pool:  # twenty callers ring at once, six at a time
            calls = list(pool.map(partial(book_with_texts, twilio), CALLERS))
        for call in calls:
            assert call.ended and "We'll call the number ending" in call.heard and "Goodbye." in call.heard
        assert len(web.pids_that_served("/voice/")) == 2, "both web workers should have answered the calls"

    booked = db.scalars(select(Callback).order_by(Callback.id)).all()
    assert sorted(c.phone_number for c in booked) == CALLERS
    assert all(c.texts_ok and c.status == "booked" for c in booked)
    assert len({(c.window_start, c.window_end) for c in booked}) == 1  # everyone chose the same morning
    now = datetime.now(timezone.utc)
    for number in MORE_CALLBACKS:
        book(db, booked[0].window_start, booked[0].window_end, now, number=number)
    db.commit()

    # The clocks start at a pretend time when every planned reminder is due and still useful.
    planned = db.scalars(select(Reminder)).all()
    assert len(planned) >= len(CALLERS) + len(MORE_CALLBACKS) and {r.status for r in planned} == {"pending"}
    pretend = max(r.due_at for r in planned) + timedelta(seconds=30)
    assert pretend < min(r.useful_until for r in planned) - timedelta(minutes=5)
    clock_env = service_env | {"CLOCK_TICK_SECONDS": "1", "SMS_RATE_PER_SECOND": str(TEXTS_PER_SECOND_EACH)}

    def unfinished() -> int:
        db.expire_all()
        return db.scalar(select(func.count()).select_from(Reminder).where(Reminder.status.in_(UNFINISHED)))

    with clock_processes(2, clock_env, pretend, tmp_path) as clocks:
        wait_for("every reminder to be sent", lambda: unfinished() == 0, 60, interval=0.25,
                 also=lambda: check_running(*clocks))
        assert [stop(clock) for clock in clocks] == [0, 0], "a clock should stop cleanly on SIGTERM"

    db.expire_all()
    reminders = db.scalars(select(Reminder)).all()
    assert len(reminders) == len(planned)
    assert Counter(r.status for r in reminders) == {"sent": len(planned)}
    assert not any(r.simulated for r in reminders)
    assert all(pretend <= r.sent_at < pretend + timedelta(minutes=2) for r in reminders)  # at the pretend time

    # Twilio was asked exactly once for each reminder, and for nothing else.
    asked = Counter((m.form["To"], m.form["Body"]) for m in double.messages)
    assert len(double.messages) == len(reminders)
    assert asked == Counter((r.to_number, r.body) for r in reminders)
    assert set(asked.values()) == {1}
    assert {m.form["StatusCallback"] for m in double.messages} == {PUBLIC_URL + "/sms/status"}
    sids = [r.message_sid for r in reminders]
    assert all(sid and sid.startswith("SM") for sid in sids) and len(set(sids)) == len(sids)

    # Both clocks took a share (a claim is "host:pid:tag").
    senders = Counter(r.claimed_by.split(":")[1] for r in reminders)
    assert set(senders) == {str(clock.pid) for clock in clocks}, senders
