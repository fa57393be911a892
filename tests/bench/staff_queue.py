"""Benchmark: the staff queue with 10,000 open callbacks, against the service's target.

    ./dev bench staff_queue                                                                    # SQLite
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test ./dev bench staff_queue  # PostgreSQL

Seeds a fresh migrated database with --callbacks (10,000) open callbacks over three teams and six
weeks (some overdue, some asking to rearrange), reminder texts for those that asked for them (a
few failed), 300 new voicemails and 100 texts that match no callback. Starts gunicorn as the
Procfile does (2 workers, production settings), signs an officer in over HTTP, and asks for the
queue as officers do, one request after another, each on a new connection: the whole queue, one
team, a search by last digits, a range of days, a page deep in the list, and every status. After
--warm-up (20) untimed requests, --rounds (40) of each; then the p99 of all of them, and each
worker's peak resident memory (VmHWM).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on the path, and its name hide the standard
# library's queue module (which urllib3 and multiprocessing import): the project's root instead.
ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, time as wall_clock, timedelta, timezone  # noqa: E402
from http.client import HTTPConnection  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ivr.db.engine import make_engine  # noqa: E402
from ivr.hours import london, london_time  # noqa: E402
from ivr.models import Callback, CallbackEvent, InboundText, Reminder, Voicemail  # noqa: E402
from ivr.staff.accounts import create_account  # noqa: E402
from tests.bench.common import Noise, fresh_database, peak_rss_mb, wait_for_quiet  # noqa: E402
from tests.bench.web import app_environment, free_port, ms, percentile, start_gunicorn, verdict, worker_pids  # noqa: E402

P99_TARGET_MS = 300
RSS_TARGET_MB = 100
EMAIL, PASSWORD = "officer@example.org", "bench-password-0123456789"
REGIONS = ("cleveland", "durham", "general")
WINDOWS = ((wall_clock(9), wall_clock(12)), (wall_clock(12), wall_clock(17)))


def seed(database_url: str, callbacks: int, now: datetime) -> None:
    """The open callbacks, their texts and history, new voicemails and stray texts, in bulk."""
    rng = random.Random(1)
    today = london(now).date()
    days = [today + timedelta(days=n) for n in range(-7, 35) if (today + timedelta(days=n)).weekday() < 5]
    rows, reminders, events = [], [], []
    for n in range(callbacks):
        day, (opens, closes) = days[n % len(days)], WINDOWS[(n // len(days)) % 2]
        starts, ends = london_time(day, opens), london_time(day, closes)
        texts_ok = n % 5 < 2
        status = ("overdue" if ends < now else "rearrange" if n % 97 == 0 else "confirmed" if n % 7 == 0
                  else "booked")
        rows.append({"id": n + 1, "region": REGIONS[n % 3], "phone_number": f"+4477009{n:05d}", "is_mobile": True,
                     "window_start": starts, "window_end": ends, "number_source": "caller", "voicemail_ok": n % 3 > 0,
                     "texts_ok": texts_ok, "status": status, "call_sid": f"CA{n:032d}", "created_at": now,
                     "updated_at": now})
        events.append({"callback_id": n + 1, "at": now, "kind": "booked", "detail": "by phone"})
        if texts_ok:
            for kind, before in (("day_before", timedelta(hours=22)), ("hour_before", timedelta(hours=1))):
                due = starts - before
                sent = due < now
                reminders.append({"callback_id": n + 1, "kind": kind, "to_number": f"+4477009{n:05d}",
                                  "due_at": due, "useful_until": starts,
                                  "status": ("failed" if rng.random() < 0.01 else "sent") if sent else "pending",
                                  "delivery_status": "delivered" if sent else None, "updated_at": now})
    voicemails = [{"recording_sid": f"RE{n:032d}", "from_number": f"+4479111{n:05d}", "region": REGIONS[n % 3],
                   "duration_seconds": 30, "status": "new", "created_at": now - timedelta(hours=n)}
                  for n in range(300)]
    texts = [{"message_sid": f"SM{n:032d}", "from_number": f"+4479222{n:05d}", "body": "Hello", "command": "other",
              "received_at": now - timedelta(hours=n)} for n in range(100)]
    engine = make_engine(database_url)
    with Session(engine) as session:
        for model, values in ((Callback, rows), (CallbackEvent, events), (Reminder, reminders),
                              (Voicemail, voicemails), (InboundText, texts)):
            for start in range(0, len(values), 2000):
                session.execute(insert(model), values[start:start + 2000])
        create_account(session, EMAIL, PASSWORD, "staff", now)
        session.commit()
    engine.dispose()


class Officer:
    """A browser, as far as the queue needs one: its session cookie, a new connection each request."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: str = "", headers: dict | None = None) -> tuple[int, str]:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body.encode(), {**(headers or {}), "Cookie": cookie})
            response = connection.getresponse()
            payload = response.read().decode()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
        finally:
            connection.close()
        return response.status, payload

    def sign_in(self) -> None:
        _, page = self.request("GET", "/staff/sign-in")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/staff/sign-in", urlencode(
            {"csrf_token": token, "email": EMAIL, "password": PASSWORD}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 303 and status != 302:
            raise RuntimeError(f"signing in answered {status}")


def views(now: datetime) -> dict[str, str]:
    """What officers ask the queue for."""
    today = london(now).date()
    return {
        "the whole queue": "/staff/",
        "one team": "/staff/?region=durham",
        "last digits": "/staff/?number=0123",
        "a week": f"/staff/?from={today + timedelta(days=7)}&to={today + timedelta(days=13)}",
        "page 100 of upcoming": "/staff/?upcoming_page=100",
        "every status": "/staff/?status=all&callbacks_page=50",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=10_000, help="open callbacks in the queue")
    parser.add_argument("--rounds", type=int, default=40, help="timed requests of each view")
    parser.add_argument("--warm-up", type=int, default=20, help="untimed requests first")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="before the timed phase, wait up to this many seconds for other work to stop (0: don't)")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)

    with tempfile.TemporaryDirectory() as scratch, fresh_database(scratch) as database_url:
        database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(f"queue benchmark: {database}, {os.cpu_count()} cores; {args.callbacks:,} open callbacks; gunicorn, "
              f"2 workers, production settings; one officer, a new connection per request; {args.warm_up} untimed, "
              f"then {args.rounds} of each of {len(views(now))} views", flush=True)
        started = time.monotonic()
        seed(database_url, args.callbacks, now)
        print(f"  seeded in {time.monotonic() - started:.1f} s", flush=True)
        port = free_port()
        server = start_gunicorn(port, app_environment(database_url), Path(scratch) / "access.log",
                                Path(scratch) / "app.log")
        try:
            officer = Officer(port)
            officer.sign_in()
            asked = views(now)
            order = list(itertools.chain.from_iterable([list(asked.items())] * args.rounds))
            random.Random(2).shuffle(order)
            for _, path in itertools.islice(itertools.cycle(asked.items()), args.warm_up):
                status, _ = officer.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            print(f"  {wait_for_quiet(args.quiet_wait)}", flush=True)
            noise = Noise()
            timings: dict[str, list[float]] = {name: [] for name in asked}
            errors = 0
            for name, path in order:
                sent = time.perf_counter()
                status, page = officer.request("GET", path)
                timings[name].append(time.perf_counter() - sent)
                errors += status != 200 or "Queue" not in page
            pids = worker_pids(server)
            busy = noise.finish(set(pids) | {server.pid})
            memory = {pid: peak_rss_mb(pid) for pid in pids}
        finally:
            server.terminate()
            server.wait(timeout=30)

    every = [t for times in timings.values() for t in times]
    p99 = percentile(every, 99)
    for name, times in timings.items():
        print(f"  {name}: median {ms(percentile(times, 50))}, slowest {ms(max(times))}")
    print(f"  while timed: {busy}")
    print(f"{verdict(p99 * 1000 < P99_TARGET_MS and not errors)}  queue p99, {args.callbacks:,} open callbacks "
          f"({database}): {ms(p99)} (target < {P99_TARGET_MS} ms), {errors} errors "
          f"(p50 {ms(percentile(every, 50))}, {len(every)} requests)")
    print(f"{verdict(max(memory.values()) < RSS_TARGET_MB)}  peak RSS per web worker, serving the queue "
          f"({database}): {', '.join(f'{mb:.0f} MB' for mb in memory.values())} (target < {RSS_TARGET_MB} MB)")


if __name__ == "__main__":
    main()
