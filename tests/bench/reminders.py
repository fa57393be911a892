"""Benchmark: the clock (claiming and sending reminder texts), each figure against the service's target.

    ./dev bench reminders                                                      # SQLite
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test ./dev bench reminders
                                                                               # SQLite, then PostgreSQL
    ./dev bench reminders --pending 100000 --passes 3                          # a quicker look

For each database (a SQLite file; and PostgreSQL too when TEST_DATABASE_URL is set, in a private
database dropped afterwards) it books callbacks until --pending reminders (1,000,000) wait in the
queue, --due (5,000) of them due now and the rest over the next four weeks, then measures:

- the claim query (one batch of 100, rolled back; median of 25) and its plan, which should walk
  the index ix_reminders_status_due;
- one unthrottled pass (SMS_RATE_PER_SECOND=0) over the due reminders in a clock process of its
  own, through the real twilio SDK to the local Twilio double: texts per second; then the clock's
  other jobs in that process, and its peak resident memory (ru_maxrss);
- --passes (10) throttled cold passes, each a fresh clock process (spawn) with
  SMS_RATE_PER_SECOND=--rate (10) sending --pass-texts (35) texts: at the double, from when each
  request arrived (`received_at`), the most texts that fell in any one second.
"""

from __future__ import annotations

import argparse
import bisect
import multiprocessing
import os
import queue
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
from tests.bench.common import Noise, database_backends, wait_for_quiet  # noqa: E402
from tests.twilio_double import TwilioDouble  # noqa: E402

# A Tuesday at 10am in London: outside the quiet hours whenever the benchmark is run.
NOW = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
BODY = "Reminder: we'll call you on Tue 1 Dec, 12 noon-5pm. Reply YES to confirm, CHANGE to rearrange, or STOP for no more texts."
CHUNK = 20_000

# The targets (from the issue "Simpler foundations").
CLAIM_TARGET_MS = 10
CLOCK_RSS_TARGET_MB = 150
UNTHROTTLED_TARGET = 200  # texts a second handed to the double


# --- the queue ----------------------------------------------------------------------------------

def callback_row(i: int) -> dict:
    return dict(id=i, region="cleveland", phone_number=f"+4479{i:08d}", is_mobile=True,
                window_start=NOW + timedelta(hours=2), window_end=NOW + timedelta(hours=7),
                voicemail_ok=False, texts_ok=True, status="booked", created_at=NOW, updated_at=NOW)


def reminder_row(callback_id: int, n: int, due_at: datetime, useful_until: datetime) -> dict:
    return dict(callback_id=callback_id, kind=("day_before", "hour_before")[n % 2], to_number=f"+4479{callback_id:08d}",
                due_at=due_at, useful_until=useful_until, status="pending", attempts=0, simulated=False, body=BODY,
                updated_at=NOW)


def book(engine, pending: int, due: int) -> float:
    """`due` reminders due now, each on a callback of its own and useful until its window opens, as
    the planner writes them (a reminder whose window is not its callback's is never sent, and one
    number has one text on its way a window); the rest later, two per callback. Seconds taken."""
    started = time.perf_counter()
    add_due(engine, 1, due)
    later = timedelta(days=28)
    with engine.begin() as connection:
        for first in range(due, pending, CHUNK):
            count = min(CHUNK, pending - first)
            connection.execute(insert(Callback), [callback_row(i) for i in
                                                  range(due + (first - due) // 2 + 1, due + (first - due + count + 1) // 2 + 1)])
            rows = []
            for n in range(first, first + count):
                due_at = NOW + timedelta(hours=1) + later * ((n % 9973) / 9973)
                rows.append(reminder_row(due + (n - due) // 2 + 1, n, due_at, due_at + timedelta(days=1)))
            connection.execute(insert(Reminder), rows)
    analyse(engine)
    return time.perf_counter() - started


def add_due(engine, first_callback: int, count: int) -> None:
    """`count` more reminders due now, on callbacks of their own from `first_callback`."""
    with engine.begin() as connection:
        ids = range(first_callback, first_callback + count)
        connection.execute(insert(Callback), [callback_row(i) for i in ids])
        connection.execute(insert(Reminder), [reminder_row(i, n, NOW - timedelta(seconds=n), NOW + timedelta(hours=2))
                                              for n, i in enumerate(ids)])


def analyse(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE reminders"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


# --- the claim ----------------------------------------------------------------------------------

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
    """The plan of the claim's inner query, its steps on one line."""
    with Session(engine) as session:
        query = due_reminders(session, NOW, CLAIM_BATCH).compile(dialect=engine.dialect,
                                                                 compile_kwargs={"literal_binds": True})
        if engine.dialect.name == "postgresql":
            lines = session.execute(text(f"EXPLAIN (COSTS OFF) {query}")).scalars()
            steps = [line.strip().removeprefix("->").strip() for line in lines
                     if not line.strip().startswith(("Index Cond", "Filter", "Sort Key"))]
        else:
            steps = [row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {query}"))]
        session.rollback()
    return " > ".join(steps)


# --- clock processes ----------------------------------------------------------------------------

def _clock(url: str, double_url: str, account_sid: str, token: str, rate: float, folder: str,
           results, finished) -> None:
    """In a fresh process of its own, like the clock: one pass of sending, timed; unthrottled, the
    clock's other jobs too. Logs as in production (JSON at INFO: a line a text), to a file. Reports
    its peak memory, then waits (its database connections still open, so the caller can see them)
    until the caller has read the results."""
    sys.stderr = open(f"{folder}/clock.log", "a")  # noqa: SIM115 - the process's log until it ends
    from ivr import create_app
    from ivr.db.engine import CLOCK
    from scheduler import Clock

    app = create_app({"DATABASE_URL": url, "TWILIO_ACCOUNT_SID": account_sid, "TWILIO_AUTH_TOKEN": token,
                      "TWILIO_PHONE_NUMBER": "+441642000000", "TWILIO_API_BASE_URL": double_url,
                      "PUBLIC_URL": "https://rj-helpline.example.org", "SMS_RATE_PER_SECOND": rate,
                      "SPOOL_DIR": f"{folder}/spool", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
                      "CLOCK": lambda: NOW}, patience=CLOCK)  # as `python -m scheduler` makes it
    clock = Clock(app)
    if not rate:
        clock.recover_stuck_sends()
    started, cpu = time.perf_counter(), time.process_time()
    outcomes = clock.send_due_reminders()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not rate:
        outcomes += clock.mark_overdue_callbacks() + clock.store_spooled_messages() + clock.apply_retention()
    results.put((dict(outcomes), elapsed, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    finished.wait(60)


def clock_pass(url: str, rate: float, folder: str) -> dict:
    """One pass in a fresh clock process against a fresh Twilio double."""
    context = multiprocessing.get_context("spawn")
    with TwilioDouble() as double:
        results, finished = context.Queue(), context.Event()
        clock = context.Process(target=_clock, args=(url, double.base_url, double.account_sid, double.auth_token,
                                                     rate, folder, results, finished))
        clock.start()
        while True:  # a clock that dies (its traceback is in clock.log) must end the benchmark, not hang it
            try:
                outcomes, elapsed, cpu, max_rss_mb = results.get(timeout=5)
                break
            except queue.Empty:
                if not clock.is_alive():
                    raise SystemExit(f"the clock process ended without a result (exit {clock.exitcode}); "
                                     f"see {folder}/clock.log") from None
        backends = database_backends(url)
        finished.set()
        clock.join()
        arrivals = sorted(message.received_at for message in double.messages)
    return {"outcomes": outcomes, "elapsed": elapsed, "cpu": cpu, "max_rss_mb": max_rss_mb, "arrivals": arrivals,
            "ours": backends}


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals in any one second [t, t + 1) (sorted input)."""
    return max((bisect.bisect_left(arrivals, t + 1) - i for i, t in enumerate(arrivals)), default=0)


def tightest_span(arrivals: list[float], texts: int) -> float:
    """The shortest time over which `texts` consecutive arrivals came (over 1 s: never more than
    `texts` - 1 in a second)."""
    spans = [arrivals[i + texts - 1] - arrivals[i] for i in range(len(arrivals) - texts + 1)]
    return min(spans, default=float("nan"))


# --- a database's run ---------------------------------------------------------------------------

def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(label: str, url: str, args, folder: str) -> dict:
    print(f"== {label}", flush=True)
    upgrade(url)
    engine = make_engine(url)
    print(f"  booked {args.pending:,} pending reminders ({args.due:,} due now) in "
          f"{book(engine, args.pending, args.due):.0f} s", flush=True)
    quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait else ""
    claim_ms = time_claim(engine)
    print(f"  claim query (batch of {CLAIM_BATCH}): {claim_ms:.2f} ms median of 25{f' ({quiet})' if quiet else ''}")
    print(f"  claim plan: {claim_plan(engine)}", flush=True)

    quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait else ""
    noise, cpu = Noise(), children_cpu()
    unthrottled = clock_pass(url, 0, folder)
    noise_text = noise.finish(unthrottled["ours"], children_cpu() - cpu) + (f"; {quiet}" if quiet else "")
    sent, arrivals = unthrottled["outcomes"].get("sent", 0), unthrottled["arrivals"]
    texts_per_second = sent / unthrottled["elapsed"]
    at_double = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    print(f"  unthrottled pass: {sent:,} of {args.due:,} sent in {unthrottled['elapsed']:.1f} s = "
          f"{texts_per_second:,.0f} texts/s ({at_double:,.0f}/s between the first and last at the double, "
          f"which took {len(arrivals):,}); outcomes {unthrottled['outcomes']}")
    print(f"    the clock's CPU {unthrottled['cpu'] / max(sent, 1) * 1000:.1f} ms a text "
          f"({unthrottled['cpu'] / unthrottled['elapsed']:.0%} of one core); its peak RSS "
          f"{unthrottled['max_rss_mb']:.0f} MB; {noise_text}", flush=True)

    passes = []
    next_callback = args.due + (args.pending - args.due + 1) // 2 + 10  # after those `book` made
    for _ in range(args.passes):
        add_due(engine, next_callback, args.pass_texts)
        next_callback += args.pass_texts
        outcome = clock_pass(url, args.rate, folder)
        arrivals = outcome["arrivals"]
        passes.append({"busiest": busiest_second(arrivals), "sent": outcome["outcomes"].get("sent", 0),
                       "span": tightest_span(arrivals, int(args.rate) + 1),
                       "seconds": arrivals[-1] - arrivals[0] if arrivals else 0.0})
    engine.dispose()
    print(f"  throttled cold passes (SMS_RATE_PER_SECOND={args.rate:g}, {args.pass_texts} texts each): busiest "
          f"second at the double {' '.join(str(p['busiest']) for p in passes)}; sent "
          f"{' '.join(str(p['sent']) for p in passes)}")
    print(f"    the tightest {int(args.rate) + 1} texts in a row spanned {min(p['span'] for p in passes):.3f} s; "
          f"first to last text of a pass {min(p['seconds'] for p in passes):.2f}-{max(p['seconds'] for p in passes):.2f} s",
          flush=True)
    return {"label": label, "claim_ms": claim_ms, "texts_per_second": texts_per_second, "sent": sent,
            "rss": unthrottled["max_rss_mb"], "passes": passes}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=1_000_000, help="reminders waiting in the queue")
    parser.add_argument("--due", type=int, default=5_000, help="how many of them are due now")
    parser.add_argument("--passes", type=int, default=10, help="throttled cold passes")
    parser.add_argument("--pass-texts", type=int, default=35, help="texts due in each throttled pass")
    parser.add_argument("--rate", type=float, default=10, help="SMS_RATE_PER_SECOND of the throttled passes")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="before timing the claim and the unthrottled pass, wait up to this many seconds for "
                             "other work on the machine to stop (0: don't)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL even if TEST_DATABASE_URL is set")
    args = parser.parse_args()
    server = None if args.sqlite_only else os.environ.get("TEST_DATABASE_URL")
    print(f"reminders benchmark: {'SQLite and PostgreSQL' if server else 'SQLite'}, {os.cpu_count()} cores; "
          f"{args.pending:,} pending, {args.due:,} due for the unthrottled pass; {args.passes} throttled cold passes "
          f"of {args.pass_texts} texts at SMS_RATE_PER_SECOND={args.rate:g}; each pass a fresh clock process "
          f"sending through the twilio SDK to the local Twilio double", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(run("SQLite", f"sqlite:///{folder}/bench.sqlite3", args, folder))
        if server:
            name = f"ivr_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                results.append(run("PostgreSQL", make_url(server).set(database=name).render_as_string(hide_password=False),
                                   args, folder))
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

        problems = [line for line in Path(folder, "clock.log").read_text().splitlines()
                    if '"level": "WARNING"' in line or '"level": "ERROR"' in line]
        if problems:
            print(f"  the clock logged {len(problems)} warnings or errors, e.g. {problems[0][:300]}")

    pending = f"{args.pending:,} pending"
    for r in results:
        print(f"{verdict(r['claim_ms'] < CLAIM_TARGET_MS)}  claim query, {pending} ({r['label']}): "
              f"{r['claim_ms']:.2f} ms median (target < {CLAIM_TARGET_MS} ms)")
    for r in results:
        print(f"{verdict(r['rss'] < CLOCK_RSS_TARGET_MB)}  clock peak RSS, {pending} ({r['label']}): "
              f"{r['rss']:.0f} MB (target < {CLOCK_RSS_TARGET_MB} MB)")
    for r in results:
        ok = r["texts_per_second"] >= UNTHROTTLED_TARGET and r["sent"] == args.due
        print(f"{verdict(ok)}  unthrottled dispatch ({r['label']}): {r['texts_per_second']:,.0f} texts/s to the "
              f"Twilio double, {r['sent']:,} of {args.due:,} sent (target >= {UNTHROTTLED_TARGET} texts/s)")
    for r in results:
        worst = max(p["busiest"] for p in r["passes"])
        all_sent = all(p["sent"] == args.pass_texts for p in r["passes"])
        print(f"{verdict(worst <= args.rate and all_sent)}  throttled, busiest second at the double over "
              f"{len(r['passes'])} cold passes ({r['label']}): {worst} texts, per pass "
              f"{' '.join(str(p['busiest']) for p in r['passes'])}"
              f"{'' if all_sent else ' (not every text was sent)'} (target <= {args.rate:g}, "
              f"SMS_RATE_PER_SECOND)")


if __name__ == "__main__":
    main()
