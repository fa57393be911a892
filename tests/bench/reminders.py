"""Benchmark the clock: claiming and sending reminders with many pending rows.

    ./dev bench reminders                       100,000 pending reminders, 5,000 of them due
    ./dev bench reminders --pending 1000000     the scale target
    ./dev bench reminders --due 20000 --sqlite-only

For each database (a SQLite file; and PostgreSQL too when TEST_DATABASE_URL is set, in a private
database dropped afterwards) it books callbacks until --pending reminders wait in the queue, --due
of them due now and the rest spread over the next four weeks, then prints:

- the claim query's time (claiming one batch of 100, rolled back; median of 25) and its plan,
  which should walk the index ix_reminders_status_due;
- one dispatch pass over the due reminders, run in its own process like the clock, through the
  real twilio SDK to the local Twilio double with no rate limit: reminders per second;
- that clock process's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ivr.db.engine import make_engine  # noqa: E402
from ivr.db.migrations import upgrade  # noqa: E402
from ivr.models import Callback, Reminder  # noqa: E402
from ivr.outbox import claim_due_reminders, due_reminders  # noqa: E402
from scheduler.dispatch import CLAIM_BATCH  # noqa: E402
from tests.twilio_double import TwilioDouble  # noqa: E402

# A Tuesday at 10am in London: outside the quiet hours whenever the benchmark is run.
NOW = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
BODY = "Reminder: we'll call you on Tue 1 Dec, 12 noon-5pm. Reply YES to confirm, CHANGE to rearrange, or STOP for no more texts."
CHUNK = 20_000


def book(engine, pending: int, due: int) -> None:
    """Two reminders per callback; the first `due` reminders are due now, the rest later."""
    print(f"  booking {pending:,} pending reminders ({due:,} due now) ...", flush=True)
    started = time.perf_counter()
    later = timedelta(days=28)
    with engine.begin() as connection:
        for first in range(0, pending, CHUNK):
            count = min(CHUNK, pending - first)
            ids = range(first // 2 + 1, (first + count + 1) // 2 + 1)
            connection.execute(insert(Callback), [dict(
                id=i, region="cleveland", phone_number=f"+4479{i:08d}", is_mobile=True,
                window_start=NOW + timedelta(hours=2), window_end=NOW + timedelta(hours=7),
                voicemail_ok=False, texts_ok=True, status="booked", created_at=NOW, updated_at=NOW) for i in ids])
            rows = []
            for n in range(first, first + count):
                is_due = n < due
                due_at = NOW - timedelta(seconds=n % 600) if is_due else NOW + timedelta(hours=1) + later * ((n % 9973) / 9973)
                rows.append(dict(callback_id=n // 2 + 1, kind=("day_before", "hour_before")[n % 2],
                                 to_number=f"+4479{n // 2 + 1:08d}", due_at=due_at,
                                 useful_until=due_at + timedelta(hours=2) if is_due else due_at + timedelta(days=1),
                                 status="pending", attempts=0, simulated=False, body=BODY, updated_at=NOW))
            connection.execute(insert(Reminder), rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE reminders"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    print(f"  booked in {time.perf_counter() - started:.1f} s")


def time_claim(engine, runs: int = 25) -> float:
    """Median milliseconds to claim one batch (each claim rolled back, so every run sees the same rows)."""
    timings = []
    with Session(engine) as session:
        for _ in range(runs):
            started = time.perf_counter()
            claimed = claim_due_reminders(session, NOW, CLAIM_BATCH, "bench")
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
            assert len(claimed) == CLAIM_BATCH, "not enough due reminders to claim a full batch"
    return statistics.median(timings)


def claim_plan(engine) -> str:
    with Session(engine) as session:
        query = due_reminders(session, NOW, CLAIM_BATCH).compile(dialect=engine.dialect,
                                                                 compile_kwargs={"literal_binds": True})
        if engine.dialect.name == "postgresql":
            rows = session.execute(text(f"EXPLAIN ANALYZE {query}")).scalars()
            plan = "\n".join(rows)
        else:
            plan = "\n".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {query}")))
        session.rollback()
    return plan


def _clock_pass(url: str, double_url: str, account_sid: str, token: str, results) -> None:
    """In a process of its own, like the clock: one dispatch pass, timed, and its peak memory."""
    from ivr import create_app
    from scheduler import Clock

    app = create_app({"DATABASE_URL": url, "TWILIO_ACCOUNT_SID": account_sid, "TWILIO_AUTH_TOKEN": token,
                      "TWILIO_PHONE_NUMBER": "+441642000000", "TWILIO_API_BASE_URL": double_url,
                      "PUBLIC_URL": "https://rj-helpline.example.org", "SMS_RATE_PER_SECOND": 0,
                      "LOG_LEVEL": "WARNING", "CLOCK": lambda: NOW})
    started = time.perf_counter()
    outcomes = Clock(app).send_due_reminders()
    elapsed = time.perf_counter() - started
    results.put((dict(outcomes), elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def dispatch_pass(url: str, due: int) -> None:
    with TwilioDouble() as double:
        results = multiprocessing.get_context("spawn").Queue()
        clock = multiprocessing.get_context("spawn").Process(
            target=_clock_pass, args=(url, double.base_url, double.account_sid, double.auth_token, results))
        clock.start()
        outcomes, elapsed, max_rss_kb = results.get()
        clock.join()
        sent = outcomes.get("sent", 0)
        print(f"  dispatch pass: {sent:,} of {due:,} sent in {elapsed:.1f} s = {sent / elapsed:,.0f} reminders/s "
              f"(the double answered {len(double.messages):,}); outcomes {outcomes}")
        print(f"  clock process peak RSS: {max_rss_kb / 1024:.0f} MB")


def run(label: str, url: str, pending: int, due: int) -> None:
    print(f"== {label}")
    upgrade(url)
    engine = make_engine(url)
    book(engine, pending, due)
    print(f"  claim query (batch of {CLAIM_BATCH}, {pending:,} pending): {time_claim(engine):.2f} ms median")
    print("  plan:\n    " + claim_plan(engine).replace("\n", "\n    "))
    engine.dispose()
    dispatch_pass(url, due)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000, help="reminders waiting in the queue")
    parser.add_argument("--due", type=int, default=5_000, help="how many of them are due now")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL even if TEST_DATABASE_URL is set")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/bench.sqlite3", args.pending, args.due)
    server = os.environ.get("TEST_DATABASE_URL")
    if server and not args.sqlite_only:
        name = f"ivr_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run("PostgreSQL", make_url(server).set(database=name).render_as_string(hide_password=False),
                args.pending, args.due)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
