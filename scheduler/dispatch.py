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

from flask import Flask
from sqlalchemy.orm import Session, joinedload

from ivr import reminders
from ivr.clock import now as clock_now
from ivr.db import commit_without_waiting_for_disk, session_scope
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
                # One session per sender, committed at each step: every text's state is on disk
                # before the next step, without a fresh connection (and its ping) per step.
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
        reminder = session.get(Reminder, reminder_id, options=[joinedload(Reminder.callback)], populate_existing=True)
        now = clock_now()
        instead = reminders.why_not_send(session, reminder, now)
        if instead is not None:
            reminders.settle_unsent(session, reminder, instead, now)
            session.commit()
            return self._log(reminder, instead)
        self.pacer.wait()
        now = clock_now()
        started = reminders.begin_send(session, reminder, self.worker, now)
        session.commit()  # from here a crash leaves "sending": flagged, never resent
        if not started:
            return "taken_elsewhere"
        try:
            sid = self.gateway.send_text(reminder.to_number, reminder.body, self.status_callback_url,
                                         reminders.validity(reminder, now))
        except SendFailed as failed:
            sid, failure = None, failed
        else:
            failure = None
        # Safe to lose in a database crash: the row would stay "sending" and be flagged, not resent.
        commit_without_waiting_for_disk(session)
        if failure is None:
            reminders.record_sent(session, reminder, sid, self.gateway.simulated, clock_now())
        else:
            reminders.record_failure(session, reminder, failure.failure, failure.code, clock_now())
        session.commit()
        return self._log(reminder, ReminderStatus(reminder.status))

    def _log(self, reminder: Reminder, status: ReminderStatus) -> str:
        outcome = {ReminderStatus.PENDING: "retrying",
                   ReminderStatus.SENT: "simulated" if reminder.simulated else "sent"}.get(status, status.value)
        level = logging.WARNING if status in (ReminderStatus.UNKNOWN, ReminderStatus.FAILED) else logging.INFO
        log.log(level, "%s reminder %s for callback %s to %s: %s%s", reminder.kind, reminder.id,
                reminder.callback_id, mask(reminder.to_number), outcome,
                f" (error {reminder.error_code})" if reminder.error_code else "")
        return outcome
