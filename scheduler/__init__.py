"""The clock process: APScheduler ticks that claim due work from the database.

    python -m scheduler          run for ever (the Procfile's `clock`)
    python -m scheduler --once   one pass of everything due, print what was done, exit
    python -m scheduler --once --at "2026-12-07 11:00"
                                 the same at a pretend London time, as the terminal phone's --at
                                 (without --once, the clock starts at that time and runs on)

`run_once(app)` does the same pass from Python. The database rows are the queue; the scheduler
only ticks, so a restart loses nothing and several clock processes may run side by side. This
package imports `ivr`; `ivr` never imports it, so a web worker never starts a scheduler.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from ivr import callbacks, current_time, outbox, retention, spool
from ivr.current_time import now as clock_now
from ivr.db.engine import CLOCK
from ivr.db.sessions import session_scope
from ivr.hours import LONDON, from_london_text
from scheduler.dispatch import Dispatcher, SendingRate

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60
RETENTION_HOUR = 3  # London time


class Clock:
    """Everything the clock does, each job one method; one per process (its sending rate is shared)."""

    def __init__(self, app: Flask, rate: SendingRate | None = None):
        self.app = app
        self.stopping = threading.Event()
        self.dispatcher = Dispatcher(app, rate, self.stopping)

    def send_due_reminders(self) -> Counter:
        with self.app.app_context():
            return self.dispatcher.run()

    def mark_overdue_callbacks(self) -> Counter:
        with self.app.app_context(), session_scope(self.app) as session:
            overdue = callbacks.mark_overdue(session, clock_now())
        if overdue:
            log.info("%d callbacks overdue", overdue)
        return Counter(overdue=overdue)

    def recover_stuck_sends(self) -> Counter:
        stuck_after = timedelta(seconds=self.app.config["CLOCK_STUCK_AFTER_SECONDS"])
        with self.app.app_context(), session_scope(self.app) as session:
            released, unknown = outbox.recover_stuck(session, clock_now(), stuck_after)
        if released or unknown:
            log.warning("recovered texts left by a stopped clock: %d back in the queue, %d flagged for staff "
                        "(they may have been sent; never resent)", released, unknown)
        return Counter(released=released, unknown=unknown)

    def store_spooled_messages(self) -> Counter:
        """Store messages the web app kept on disk while the database was unreachable."""
        return Counter(spooled_messages_stored=spool.store_spooled_messages(self.app))

    def apply_retention(self) -> Counter:
        """Delete old recordings and anonymise closed records (daily; safe to repeat)."""
        config = self.app.config
        with self.app.app_context(), session_scope(self.app) as session:
            done = retention.apply_retention(session, self.app.extensions["gateway"], clock_now(),
                                             recording_days=config["RETENTION_RECORDING_DAYS"],
                                             closed_days=config["RETENTION_CLOSED_DAYS"])
        summary = Counter({f"retention_{name}": count for name, count in vars(done).items() if count})
        if summary:
            log.info("retention: %s", dict(summary))
        return summary

    def run_once(self) -> dict[str, int]:
        """One pass of everything due; what happened, by outcome."""
        summary = (self.recover_stuck_sends() + self.send_due_reminders() + self.mark_overdue_callbacks()
                   + self.store_spooled_messages() + self.apply_retention())
        return dict(sorted(summary.items()))

    def stop(self) -> None:
        """Finish the text in hand, hand back the rest of the batch, start nothing new."""
        self.stopping.set()


def run_once(app: Flask) -> dict[str, int]:
    """One pass of everything due (what `python -m scheduler --once` runs)."""
    return Clock(app).run_once()


def given_up_when_the_database_stalls(job: Callable[[], Counter]) -> Callable[[], Counter]:
    """`job`, except that a database that does not answer in time (CLOCK's patience) ends the pass
    with one line in the log; the next tick tries again, and what was claimed and not sent goes back
    to the queue (see recover_stuck_sends)."""

    @functools.wraps(job)
    def pass_or_give_up() -> Counter:
        try:
            return job()
        except (OperationalError, PoolTimeout) as error:
            log.error("%s given up: the database did not answer (%s); trying again at the next tick",
                      job.__name__, type(error.orig if isinstance(error, OperationalError) else error).__name__)
            return Counter()

    return pass_or_give_up


def build_scheduler(clock: Clock) -> BlockingScheduler:
    """APScheduler ticking in London time; each job at most once at a time, late ticks merged."""
    tick = clock.app.config["CLOCK_TICK_SECONDS"]
    scheduler = BlockingScheduler(timezone=LONDON)
    for job, seconds in ((clock.recover_stuck_sends, HOUSEKEEPING_SECONDS),
                         (clock.send_due_reminders, tick),
                         (clock.mark_overdue_callbacks, HOUSEKEEPING_SECONDS),
                         # Every tick: a STOP or a message kept while the database was away is acted on soon.
                         (clock.store_spooled_messages, tick)):
        # A tick missed while the previous pass ran long is merged into one late run, not repeated.
        scheduler.add_job(given_up_when_the_database_stalls(job), "interval", seconds=seconds, id=job.__name__,
                          next_run_time=datetime.now(LONDON), coalesce=True, max_instances=1,
                          misfire_grace_time=max(tick, seconds))
    # Nightly, when nobody is being called; a night the clock was down is caught up within 12 hours.
    scheduler.add_job(given_up_when_the_database_stalls(clock.apply_retention), "cron", hour=RETENTION_HOUR,
                      id="apply_retention", coalesce=True, max_instances=1, misfire_grace_time=12 * 3600)
    return scheduler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="The helpline's clock process.")
    parser.add_argument("--once", action="store_true", help="run one pass of everything due, then exit")
    parser.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'",
                        help="a pretend London time to run at, as the terminal phone's --at (for trying it out)")
    args = parser.parse_args(argv)
    try:
        pretend = from_london_text(args.at) if args.at is not None else None
    except ValueError:
        parser.error(f"--at: {args.at!r} is not a time; write it like 2026-12-07 11:00 (London time)")

    from ivr import create_app

    app = create_app(patience=CLOCK)
    if pretend is not None:
        if app.config["IVR_ENV"] == "production":  # a pretend future would send, expire and delete for real
            parser.error("--at is for trying the service out; it is refused when IVR_ENV=production")
        current_time.pretend(app, pretend, running=not args.once)
    clock = Clock(app)
    if args.once:
        print(json.dumps(clock.run_once()))
        return 0
    scheduler = build_scheduler(clock)

    def shut_down(_signum, _frame):
        clock.stop()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, shut_down)
    log.info("clock started: reminders every %ss, at most %s texts a second",
             app.config["CLOCK_TICK_SECONDS"], app.config["SMS_RATE_PER_SECOND"] or "unlimited")
    try:
        scheduler.start()
    except KeyboardInterrupt:
        clock.stop()
    return 0
