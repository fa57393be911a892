"""Sending due reminders: claim a batch, hand each text to the gateway, never faster than the
number may send, and record what happened. Rows are claimed a batch at a time; the table is never
loaded whole."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask
from sqlalchemy import Row
from sqlalchemy.orm import Session

from ivr import outbox
from ivr.current_time import now as clock_now
from ivr.db.sessions import session_on_one_connection, session_scope
from ivr.gateway import SendFailed
from ivr.hours import in_quiet_hours
from ivr.models import Reminder, ReminderStatus
from ivr.phone import mask

log = logging.getLogger(__name__)

# Small enough that a stopped clock hands little back, big enough that claiming is cheap.
CLAIM_BATCH = 100
# Texts handed to Twilio at once: while one waits for Twilio or the database, others are written.
SENDERS = 4


def worker_name() -> str:
    """Who claimed a row: host, process and a per-dispatcher tag (threads in one process differ)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SendingRate:
    """At most `per_second` texts reach Twilio in any one second (0: no limit); below 1, one text
    every 1/`per_second` seconds.

    A sender takes a turn before it starts on a text, and the turn comes free again a full window
    after its request to Twilio has ended. So the texts of any window's worth of turns left more
    than a window apart, however long writing to the database or Twilio's answer took, and
    senders in several threads share one rate.
    """

    def __init__(self, per_second: float):
        self.limited = per_second > 0
        self.turns, self.window = (int(per_second), 1.0) if per_second >= 1 or not self.limited else (1, 1 / per_second)
        self.free = self.turns
        self.coming_free: deque[float] = deque()  # when each turn in its cooling window comes free
        self.changed = threading.Condition()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for a turn, and hold it while the block sends one text."""
        if not self.limited:
            yield
            return
        with self.changed:
            while not self._take():
                wait = self.coming_free[0] - time.monotonic() if self.coming_free else None
                self.changed.wait(wait)
        try:
            yield
        finally:
            with self.changed:
                self.coming_free.append(time.monotonic() + self.window)
                self.changed.notify()

    def _take(self) -> bool:
        now = time.monotonic()
        while self.coming_free and self.coming_free[0] <= now:
            self.coming_free.popleft()
            self.free += 1
        if self.free:
            self.free -= 1
            return True
        return False


class Dispatcher:
    """One clock process's sender. Two dispatchers never send the same reminder: each works only
    on the rows its own claim took."""

    def __init__(self, app: Flask, rate: SendingRate | None = None, stopping: threading.Event | None = None):
        self.app = app
        self.gateway = app.extensions["gateway"]
        self.rate = rate or SendingRate(app.config["SMS_RATE_PER_SECOND"])
        self.stopping = stopping or threading.Event()
        self.worker = worker_name()
        public_url = app.config.get("PUBLIC_URL")
        self.status_callback_url = f"{public_url}/sms/status" if public_url else None

    def run(self) -> Counter:
        """Send every reminder due now (in batches), unless it is the quiet hours; count outcomes."""
        outcomes: Counter = Counter()
        with session_scope(self.app) as session:
            outcomes["missed"] += outbox.mark_missed(session, clock_now())
        while not self.stopping.is_set():
            now = clock_now()
            if in_quiet_hours(now):
                break  # what is due waits for 08:00, or is marked missed if too late by then
            with session_scope(self.app) as session:
                claimed = outbox.claim_due_reminders(session, now, CLAIM_BATCH, self.worker)
            if not claimed:
                break
            outcomes += self.send_claimed(claimed)
        return +outcomes

    def send_claimed(self, claimed: list[int]) -> Counter:
        """Send reminders this dispatcher claimed, from SENDERS threads; hand back, unsent,
        whatever was not started when it stops or fails."""
        waiting, outcomes, failures = deque(claimed), Counter(), []
        lock = threading.Lock()

        def next_id() -> int | None:
            with lock:
                if waiting and not self.stopping.is_set() and not failures:
                    return waiting.popleft()
                return None

        def sender() -> None:
            try:
                with self.app.app_context(), session_on_one_connection(self.app) as session:
                    while (reminder_id := next_id()) is not None:
                        outcome = self._send_one(session, reminder_id)
                        with lock:
                            outcomes[outcome] += 1
            except Exception as error:  # noqa: BLE001 - raised again below, after the others stop
                failures.append(error)

        threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in range(min(SENDERS, len(waiting)))]
        try:
            for thread in threads:
                thread.start()
        finally:
            for thread in threads:
                thread.join()
            if waiting:
                with session_scope(self.app) as session:
                    outbox.release_claims(session, list(waiting), self.worker, clock_now())
        if failures:
            raise failures[0]
        return outcomes

    def _send_one(self, session: Session, reminder_id: int) -> str:
        """Send one claimed reminder: a committed "sending" mark, made only if the text may still go,
        before Twilio is asked (so a crash never sends it twice), then what Twilio answered."""
        with self.rate.turn():
            now = clock_now()
            text = outbox.begin_send(session, reminder_id, self.worker, now)
            session.commit()
            if text is None:
                return self._not_sent(session, reminder_id, now)
            try:
                sid = self.gateway.send_text(text.to_number, text.body, self.status_callback_url,
                                             outbox.validity(text.useful_until, now))
            except SendFailed as failed:
                reminder = session.get(Reminder, reminder_id)
                outbox.record_failure(session, reminder, failed.failure, failed.code, clock_now())
                session.commit()
                return self._log(reminder, ReminderStatus(reminder.status))
        outbox.record_sent(session, reminder_id, sid, self.gateway.simulated, clock_now())
        session.commit()
        return self._log(text, ReminderStatus.SENT)

    def _not_sent(self, session: Session, reminder_id: int, now: datetime) -> str:
        """A claimed reminder `begin_send` declined: settle it (cancelled, missed) and say why."""
        reminder = outbox.settle_unsendable(session, reminder_id, self.worker, now)
        session.commit()
        if reminder is None:
            return "taken_elsewhere"
        return self._log(reminder, ReminderStatus(reminder.status))

    def _log(self, reminder: Reminder | Row, status: ReminderStatus) -> str:
        """Log what became of a reminder (the number masked, never the words); return the outcome."""
        error_code = getattr(reminder, "error_code", None)
        outcome = {ReminderStatus.PENDING: "retrying",
                   ReminderStatus.SENT: "simulated" if self.gateway.simulated else "sent"}.get(status, status.value)
        level = logging.WARNING if status in (ReminderStatus.UNKNOWN, ReminderStatus.FAILED) else logging.INFO
        log.log(level, "%s reminder %s for callback %s to %s: %s%s", reminder.kind, reminder.id,
                reminder.callback_id, mask(reminder.to_number), outcome,
                f" (error {error_code})" if error_code else "")
        return outcome
