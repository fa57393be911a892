"""Sending due reminders: claim a batch, hand each text to the gateway at a steady pace, record
what happened. Rows are streamed a batch at a time; the table is never loaded whole."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy import Row
from sqlalchemy.orm import Session

from ivr import reminders
from ivr.clock import now as clock_now
from ivr.db import session_scope, standalone_write
from ivr.gateway import SendFailed
from ivr.hours import in_quiet_hours
from ivr.models import Reminder, ReminderStatus
from ivr.phone import mask

log = logging.getLogger(__name__)

# Small enough that a stopped clock hands little back, big enough that claiming is cheap.
CLAIM_BATCH = 100
# Texts handed to Twilio at once. Each send first commits "sending" durably (so a crash never
# resends); with a few in flight the database writes those commits together. The pace is shared.
SENDERS = 4


def worker_name() -> str:
    """Who claimed a row: host, process and a per-dispatcher tag (threads in one process differ)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Pacer:
    """Spaces sends so that no more than `rate` go in any second (rate 0: no limit).

    `clock` and `sleep` are injectable so tests can check the pace without waiting for it.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_at = float("-inf")
        self.lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next send may go (senders in several threads share one pace)."""
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class Dispatcher:
    """One clock process's sender. Two dispatchers never send the same reminder: each works only
    on the rows its own claim took."""

    def __init__(self, app: Flask, pacer: Pacer | None = None, stopping: threading.Event | None = None):
        self.app = app
        self.gateway = app.extensions["gateway"]
        self.pacer = pacer or Pacer(app.config["SMS_RATE_PER_SECOND"])
        self.stopping = stopping or threading.Event()
        self.worker = worker_name()
        public_url = app.config.get("PUBLIC_URL")
        self.status_callback_url = f"{public_url}/sms/status" if public_url else None

    def run(self) -> Counter:
        """Send every reminder due now (in batches), unless it is the quiet hours; count outcomes."""
        outcomes: Counter = Counter()
        with session_scope(self.app) as session:
            outcomes["missed"] += reminders.mark_missed(session, clock_now())
        while not self.stopping.is_set():
            now = clock_now()
            if in_quiet_hours(now):
                break  # what is due waits for 08:00, or is marked missed if too late by then
            with session_scope(self.app) as session:
                claimed = reminders.claim_due_reminders(session, now, CLAIM_BATCH, self.worker)
            if not claimed:
                break
            self._send_batch(deque(claimed), outcomes)
        return +outcomes

    def _send_batch(self, claimed: deque[int], outcomes: Counter) -> None:
        """Send a claimed batch from SENDERS threads; hand back, unsent, whatever was not started."""
        lock, failures = threading.Lock(), []

        def next_id() -> int | None:
            with lock:
                if claimed and not self.stopping.is_set() and not failures:
                    return claimed.popleft()
                return None

        def sender() -> None:
            try:
                # One session per sender for the rarer steps (a refusal, a failure), committed at
                # each; the two writes of every text take a pooled standalone connection each.
                with self.app.app_context(), session_scope(self.app) as session:
                    while (reminder_id := next_id()) is not None:
                        outcome = self._send_one(session, reminder_id)
                        with lock:
                            outcomes[outcome] += 1
            except Exception as error:  # noqa: BLE001 - raised again below, after the others stop
                failures.append(error)

        threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in range(min(SENDERS, len(claimed)))]
        try:
            for thread in threads:
                thread.start()
        finally:
            for thread in threads:
                thread.join()
            if claimed:  # stopping, or an error: hand back what was not started, unsent
                with session_scope(self.app) as session:
                    reminders.release_claims(session, list(claimed), self.worker, clock_now())
        if failures:
            raise failures[0]

    def _send_one(self, session: Session, reminder_id: int) -> str:
        """Send one claimed reminder in two writes: one statement checks it is still wanted and marks
        it "sending", committed before Twilio is asked; once Twilio has answered, one records that
        it went. On PostgreSQL each commits as it runs (no BEGIN or COMMIT round trips)."""
        self.pacer.wait()
        now = clock_now()
        with standalone_write(self.app) as connection:
            text = reminders.begin_send(connection, reminder_id, self.worker, now)
        if text is None:
            return self._not_sent(session, reminder_id, now)
        try:
            sid = self.gateway.send_text(text.to_number, text.body, self.status_callback_url,
                                         reminders.validity(text.useful_until, now))
        except SendFailed as failed:
            reminder = session.get(Reminder, reminder_id, populate_existing=True)
            reminders.record_failure(session, reminder, failed.failure, failed.code, clock_now())
            session.commit()
            return self._log(reminder, ReminderStatus(reminder.status))
        with standalone_write(self.app) as connection:
            reminders.record_sent(connection, reminder_id, sid, self.gateway.simulated, clock_now())
        return self._log(text, ReminderStatus.SENT)

    def _not_sent(self, session: Session, reminder_id: int, now: datetime) -> str:
        """A claimed reminder `begin_send` declined: settle it (cancelled, missed) and say why."""
        reminder = reminders.settle_unsendable(session, reminder_id, self.worker, now)
        session.commit()
        if reminder is None:
            return "taken_elsewhere"
        return self._log(reminder, ReminderStatus(reminder.status))

    def _log(self, reminder: Reminder | Row, status: ReminderStatus) -> str:
        """Log what became of a reminder (the number masked, never the words); return the outcome."""
        simulated = self.gateway.simulated
        error_code = getattr(reminder, "error_code", None)
        outcome = {ReminderStatus.PENDING: "retrying",
                   ReminderStatus.SENT: "simulated" if simulated else "sent"}.get(status, status.value)
        level = logging.WARNING if status in (ReminderStatus.UNKNOWN, ReminderStatus.FAILED) else logging.INFO
        log.log(level, "%s reminder %s for callback %s to %s: %s%s", reminder.kind, reminder.id,
                reminder.callback_id, mask(reminder.to_number), outcome,
                f" (error {error_code})" if error_code else "")
        return outcome
