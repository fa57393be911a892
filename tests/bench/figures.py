"""Benchmark: the Figures page with a year of data, against the target of the issue "Staff text back
discreetly, and the service's figures for its commissioners" (the page under a second).

    ./dev bench figures                                                        # SQLite
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test ./dev bench figures
                                                                               # PostgreSQL
    ./dev bench figures --calls 20000                                          # a quicker look

It seeds a fresh database with a year (2026) of --calls (100,000) calls at random London times,
their menu choices (call_steps), and callbacks, call attempts, voicemails, texts and replies in
proportion; signs an administrator in; and asks the app in-process (Flask's test client, so the
time is the server's: the queries, the grouping and the page) for the Figures page, --repeats (5)
times each: the whole year, the default quarter, and the year's CSV. It prints each one's median
and slowest against the target, PASS or FAIL, and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# The project, not this folder, first on the path, so that `tests.bench.common` is found.
sys.path[0] = str(Path(__file__).resolve().parents[2])

from sqlalchemy import create_engine, insert  # noqa: E402

from ivr import create_app  # noqa: E402
from ivr.db.sessions import session_scope  # noqa: E402
from ivr.models import Call, CallbackEvent, Callback, CallStep, InboundText, Reminder, Voicemail  # noqa: E402
from tests.bench.common import Noise, database_backends, fresh_database, peak_rss_mb, wait_for_quiet  # noqa: E402

PAGE_TARGET_S = 1.0
YEAR_STARTS = datetime(2026, 1, 1, tzinfo=timezone.utc)
EMAIL, PASSWORD = "manager@example.org", "a long enough benchmark password"
REGIONS = ("cleveland", "durham", "vcas", None)
CHUNK = 10_000


def seed(url: str, calls: int, rng: random.Random) -> None:
    engine = create_engine(url)
    moments = sorted(YEAR_STARTS + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(calls))
    with engine.begin() as db:
        call_rows, step_rows = [], []
        for n, started in enumerate(moments):
            sid = f"CA{n:032d}"
            call_rows.append({"call_sid": sid, "from_number": None, "region": rng.choice(REGIONS),
                              "started_at": (started), "status": "completed",
                              "ended_at": (started + timedelta(minutes=3))})
            for choice in rng.sample(("rj_info", "referral_info", "team", "callback", "message"), rng.randint(0, 2)):
                step_rows.append({"call_sid": sid, "choice": choice, "at": (started)})
            if rng.random() < 0.3:
                step_rows.append({"call_sid": sid, "choice": "put_through", "at": (started)})
                step_rows.append({"call_sid": sid, "choice": rng.choice(("answered", "not_answered")),
                                  "at": (started)})
        for rows, table in ((call_rows, Call.__table__), (step_rows, CallStep.__table__)):
            for i in range(0, len(rows), CHUNK):
                db.execute(insert(table), rows[i:i + CHUNK])
        callbacks = calls // 12
        callback_rows = []
        for n in range(callbacks):
            created = moments[rng.randrange(calls)]
            starts = created + timedelta(days=rng.randint(1, 6))
            callback_rows.append({
                "call_sid": f"CB{n:032d}" if rng.random() < 0.8 else None, "region": rng.choice(REGIONS[:3]),
                "phone_number": f"+447911{n:06d}", "is_mobile": True, "window_start": (starts),
                "window_end": (starts + timedelta(hours=3)), "number_source": "caller", "voicemail_ok": True,
                "texts_ok": True, "status": rng.choice(("completed", "completed", "cancelled", "overdue", "booked")),
                "created_at": (created), "updated_at": (created)})
        for i in range(0, len(callback_rows), CHUNK):
            db.execute(insert(Callback.__table__), callback_rows[i:i + CHUNK])
        event_rows, reminder_rows, reply_rows = [], [], []
        for callback_id, row in enumerate(callback_rows, start=1):
            starts = row["window_start"]
            for _ in range(rng.randint(0, 3)):
                event_rows.append({"callback_id": callback_id, "at": starts + timedelta(minutes=rng.randint(-60, 240)),
                                   "kind": "attempt", "outcome": rng.choice(("spoke", "no_answer", "not_safe",
                                                                             "left_voicemail")), "detail": ""})
            for kind, before in (("day_before", timedelta(hours=22)), ("hour_before", timedelta(hours=1))):
                delivered = rng.random() < 0.9
                reminder_rows.append({
                    "callback_id": callback_id, "kind": kind, "to_number": row["phone_number"],
                    "due_at": starts - before, "useful_until": starts, "status": "sent", "attempts": 1,
                    "sent_at": starts - before, "message_sid": f"SM{kind[0]}{callback_id:031d}", "simulated": False,
                    "delivery_status": "delivered" if delivered else "undelivered",
                    "updated_at": starts - before})
            if rng.random() < 0.2:
                reply_rows.append({"message_sid": f"SM{callback_id:032d}", "from_number": row["phone_number"],
                                   "body": "", "command": rng.choice(("yes", "change", "stop", "other")),
                                   "callback_id": callback_id, "received_at": starts - timedelta(hours=20)})
        voicemail_rows = [{"call_sid": None, "from_number": None, "region": rng.choice(REGIONS[:3]),
                           "recording_sid": f"RE{n:032d}", "duration_seconds": 30, "status": "listened",
                           "created_at": (moment), "listened_at": (moment + timedelta(hours=rng.randint(1, 90)))}
                          for n, moment in enumerate(rng.sample(moments, calls // 30))]
        for rows, table in ((event_rows, CallbackEvent.__table__), (reminder_rows, Reminder.__table__),
                            (reply_rows, InboundText.__table__), (voicemail_rows, Voicemail.__table__)):
            for i in range(0, len(rows), CHUNK):
                db.execute(insert(table), rows[i:i + CHUNK])
    engine.dispose()
    print(f"seeded {calls:,} calls, {len(step_rows):,} call steps, {callbacks:,} callbacks with {len(event_rows):,} "
          f"attempts and {len(reminder_rows):,} texts, {len(reply_rows):,} replies, {len(voicemail_rows):,} voicemails")


def timed(client, path: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    passed = True
    with tempfile.TemporaryDirectory() as scratch, fresh_database(scratch) as url:
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"== {database}")
        seed(url, args.calls, random.Random(16))
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark-secret-key-long-enough-for-it",
                          "LOG_LEVEL": "WARNING", "SPOOL_DIR": str(Path(scratch) / "spool")})
        from ivr.staff import accounts

        with session_scope(app) as session:
            accounts.create_account(session, EMAIL, PASSWORD, "admin", datetime.now(timezone.utc))
        client = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                          client.get("/staff/sign-in").get_data(as_text=True)).group(1)
        client.post("/staff/sign-in", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD},
                    headers={"Referer": "http://localhost/staff/sign-in"})
        client.get("/staff/admin/figures?start=2026-01-01&end=2026-12-31")  # warm: templates, statements
        print(wait_for_quiet(120))
        noise = Noise()
        for name, path in (("the whole year", "/staff/admin/figures?start=2026-01-01&end=2026-12-31"),
                           ("one quarter", "/staff/admin/figures?start=2026-10-01&end=2026-12-31"),
                           ("the year as CSV", "/staff/admin/figures.csv?start=2026-01-01&end=2026-12-31")):
            times = timed(client, path, args.repeats)
            ok = max(times) < PAGE_TARGET_S
            passed &= ok
            print(f"{'PASS' if ok else 'FAIL'} figures, {name}, {args.calls:,} calls ({database}): median "
                  f"{statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms "
                  f"(target under {PAGE_TARGET_S * 1000:.0f} ms)")
        print(f"     {noise.finish(database_backends(url))}")
        print(f"     peak RSS of this process (seeding included): {peak_rss_mb():.0f} MB")
        app.extensions["db.engine"].dispose()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
