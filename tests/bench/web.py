"""Benchmark: the voice webhooks under gunicorn, each figure against the service's target.

    ./dev bench web                                                                    # SQLite
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test ./dev bench web  # PostgreSQL
    ./dev bench web --details        # also each phase's latencies, time in the workers, CPU a request

Whole calls (welcome, menus, information, a booking, a voicemail) are first played in-process
through the TwiML walker to learn the requests Twilio would send; a second process then replays
them over HTTP against gunicorn (the Procfile's workers, its settings and gunicorn.conf.py: production app, JSON
logs at INFO, an access log), each virtual call with its own CallSid and a fresh Twilio signature,
a new connection per request as Twilio makes, 50 calls in progress at a time whose requests come
in random order (each call's own in order).

Phases, every request counted per worker (from the access log), after --warm-up (1,000) untimed
requests (each worker's first requests compile statements and load what the app loads lazily):
- open loop at --rate (200) requests a second for --seconds (20): the requests leave on time
  whatever the answers, and latency is counted from when each was due to leave;
- open loop at --burst-rate (500) for --burst-seconds (10): errors, and answers over 1 s;
- a steady top-up (4 clients back to back) until each worker has served --requests-per-worker
  (10,000) calls' requests; then each worker's peak resident memory (VmHWM).

Before each timed phase it waits (up to --quiet-wait, 120 s) for the machine to be nearly idle,
and it prints what other processes used during each phase: on a shared machine, others' work shows
in the latencies. An answer that is not TwiML, or that is the apology the fallback speaks after a
failure, counts as an error. SQLite by default; with TEST_DATABASE_URL set, a fresh PostgreSQL
database on that server.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import multiprocessing
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
WORKERS = int(re.search(r"WEB_WORKERS:-(\d+)", (ROOT / "Procfile").read_text()).group(1))  # the Procfile's default
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from ivr.prompts import load_prompts  # noqa: E402
from tests.bench.common import (  # noqa: E402
    Noise, database_backends, fresh_database, peak_rss_mb, process_cpu_seconds, wait_for_quiet)

PUBLIC_URL = "https://rj-bench.example.org"
TOKEN = "bench-token-0123456789abcdef0123"
SID = "AC" + "b" * 32
MOBILE = "+447911123456"

# The targets (from the issue "Simpler foundations").
P99_TARGET_MS = 10
SLOW_S = 1.0
RSS_TARGET_MB = 100

# The Procfile's access log line, with the time in microseconds (in the worker, from reading the
# request to answering it), and the worker's pid (<pid>) so that requests can be counted per worker.
ACCESS_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(D)sus %(p)s'
CALLS_SIDE_BY_SIDE = 50  # calls in progress at once: a call's next step comes ~50 requests after its last


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "IVR_ENV": "production", "DATABASE_URL": database_url, "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID, "TWILIO_PHONE_NUMBER": "+441642000000",
            "SECRET_KEY": "bench-secret-" + "0123456789" * 3, "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}


# --- learning the calls -------------------------------------------------------------------------

FLOWS = {
    # name: the caller's actions after the welcome
    "information": [("press", "1"), ("press", "2"), ("hang_up",)],
    # Day 2 always has a morning left, whatever the time of the run.
    "booking": [("press", "4"), ("press", "2"), ("press", "1"), ("press", "1"), ("press", "1"), ("press", "1")],
    "voicemail": [("press", "3"), ("press", "1"), ("press", "1"), ("record", 20, "#")],
}


def learn_flows(database_url: str) -> dict[str, list[tuple[str, dict]]]:
    """Play each flow once in-process and keep the (path, params) of every request."""
    from ivr import create_app
    from ivr.walker import Call

    config = {k: v for k, v in app_environment(database_url).items() if k in
              ("DATABASE_URL", "PUBLIC_URL", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "SECRET_KEY",
               "TWILIO_API_BASE_URL")}
    app = create_app({**config, "LOG_LEVEL": "WARNING"})
    client, validator = app.test_client(), RequestValidator(TOKEN)
    flows = {}
    for name, actions in FLOWS.items():
        seen: list[tuple[str, dict]] = []

        def post(url, params, seen=seen):
            path = url.removeprefix(PUBLIC_URL)
            seen.append((path, dict(params)))
            signature = validator.compute_signature(PUBLIC_URL + path, params)
            return client.post(path, data=params, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)

        call = Call(post, from_number=MOBILE, dial_outcome="no-answer").start()
        for verb, *args in actions:
            if call.ended:
                break
            getattr(call, verb)(*args)
        flows[name] = seen
    app.extensions["db.engine"].dispose()
    return flows


def virtual_call(flow: list[tuple[str, dict]], validator: RequestValidator) -> list[tuple[str, bytes, str]]:
    """The flow's requests for a new call: its own CallSid and RecordingSid, signed afresh."""
    call_sid, recording_sid = "CA" + uuid.uuid4().hex, "RE" + uuid.uuid4().hex
    requests = []
    for path, params in flow:
        params = {**params, "CallSid": call_sid}
        if "RecordingSid" in params:
            params["RecordingSid"] = recording_sid
        signature = validator.compute_signature(PUBLIC_URL + path, params)
        requests.append((path, urlencode(params).encode(), signature))
    return requests


def replay(flows, validator: RequestValidator, count: int, seed: int = 0) -> list[tuple[str, bytes, str]]:
    """`count` requests of whole calls (the flows in turn), as callers' arrive side by side: each
    request comes from one of CALLS_SIDE_BY_SIDE calls in progress, picked at random (a call's own
    requests stay in order), and a call that ends makes way for a new one. So a step that costs
    more (a booking's last) is spread among the rest as real traffic is, not sent in a burst."""
    rng, kinds = random.Random(seed), itertools.cycle(flows.values())
    in_progress = [iter(virtual_call(next(kinds), validator)) for _ in range(CALLS_SIDE_BY_SIDE)]
    steps, recent = [], collections.deque(maxlen=CALLS_SIDE_BY_SIDE // 5)
    while len(steps) < count:
        # Not one of the last few calls: Twilio sends a call's next request only after its last answer.
        slot = rng.choice([n for n in range(CALLS_SIDE_BY_SIDE) if n not in recent])
        recent.append(slot)
        step = next(in_progress[slot], None)
        if step is None:
            in_progress[slot] = iter(virtual_call(next(kinds), validator))
            step = next(in_progress[slot])
        steps.append(step)
    return steps


# --- driving load (in a second process) ---------------------------------------------------------

# An answer that apologises is the fallback after a failure, not a served step: counted as an error.
APOLOGY = load_prompts().lines("sorry")[0].encode()


def send(port: int, path: str, body: bytes, signature: str) -> None:
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                "X-Twilio-Signature": signature})
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    if response.status != 200 or b"<Response" not in payload or APOLOGY in payload:
        raise RuntimeError(f"{path} answered {response.status}: {payload[:160]!r}")


def open_loop(port: int, steps: list, rate: float, results) -> None:
    """Requests leave at `rate` a second whatever the answers; latency counted from when each was due
    to leave (so a stall shows in every request it delays). Also how late the generator itself sent
    them. One asyncio loop sends them all: with no threads to schedule it closes each connection as
    soon as the answer is in."""
    results.put(asyncio.run(_open_loop(port, steps, rate)))


async def _open_loop(port: int, steps: list, rate: float) -> dict:
    loop = asyncio.get_running_loop()
    latencies, lags, errors = [], [], []
    start = loop.time() + 0.2

    async def one(i: int, path: str, body: bytes, signature: str) -> None:
        planned = start + i / rate
        await asyncio.sleep(planned - loop.time())
        lags.append(loop.time() - planned)
        try:
            await asyncio.wait_for(_post(port, path, body, signature), 10)
            latencies.append(loop.time() - planned)
        except Exception as error:  # noqa: BLE001 - counted and reported
            errors.append(f"{type(error).__name__}: {error}")

    await asyncio.gather(*(one(i, *step) for i, step in enumerate(steps)))
    return {"latencies": latencies, "lags": lags, "errors": errors, "elapsed": loop.time() - start}


async def _post(port: int, path: str, body: bytes, signature: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {signature}\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        answer = await reader.read()  # gunicorn closes the connection after answering (no keep-alive)
    finally:
        writer.close()
    status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b"?"
    payload = answer.partition(b"\r\n\r\n")[2]
    if status != b"200" or b"<Response" not in payload or APOLOGY in payload:
        raise RuntimeError(f"{path} answered {status.decode()}: {payload[:160]!r}")


def closed_loop(port: int, steps: list, concurrency: int, results) -> None:
    """`concurrency` clients send back to back until `steps` are all sent; errors counted."""
    errors, items = [], iter(steps)

    def worker():
        for step in items:
            try:
                send(port, *step)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(error).__name__}: {error}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put({"errors": errors, "elapsed": time.perf_counter() - started})


def in_second_process(target, *args):
    results = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, results))
    process.start()
    outcome = results.get()
    process.join()
    return outcome


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def phase(server: subprocess.Popen, database_url: str, access_log: Path, quiet_wait: float, target, *args) -> dict:
    """Run a load phase from a second process, once the machine is quiet (or `quiet_wait` has
    passed); add the workers' CPU per request and what else the machine did meanwhile."""
    waited = wait_for_quiet(quiet_wait) if quiet_wait else ""
    noise, generator_cpu = Noise(), children_cpu()
    workers, backends = worker_pids(server), database_backends(database_url)
    worker_cpu, logged = sum(map(process_cpu_seconds, workers)), access_log.stat().st_size
    database_cpu = {pid: process_cpu_seconds(pid) for pid in backends}
    outcome = in_second_process(target, *args)
    outcome["worker_cpu"] = sum(map(process_cpu_seconds, workers)) - worker_cpu
    backends = database_backends(database_url)
    outcome["database_cpu"] = sum(process_cpu_seconds(pid) - database_cpu.get(pid, 0.0) for pid in backends)
    outcome["in_workers"] = access_lines(access_log, logged)
    outcome["noise"] = noise.finish({server.pid, *workers} | backends, children_cpu() - generator_cpu) + (
        f"; {waited}" if waited else "")
    return outcome


# --- the server ---------------------------------------------------------------------------------

def start_gunicorn(port: int, env: dict[str, str], access_log: Path, error_log: Path) -> subprocess.Popen:
    """Start gunicorn as the Procfile does and wait until every worker has loaded the app and answered.

    The master accepts connections before its workers are ready; timing from then would measure
    the workers' start-up, not the service.
    """
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", "--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT,
               "ivr:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=error_log.open("w"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if len(worker_pids(server)) == WORKERS:
                for _ in range(40):
                    connection = HTTPConnection("127.0.0.1", port, timeout=10)
                    connection.request("GET", "/healthz")
                    connection.getresponse().read()
                    connection.close()
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def access_lines(access_log: Path, start: int = 0) -> list[tuple[str, float, int]]:
    """The calls' requests (POSTs) in the access log from byte `start`: (path, seconds in the worker, pid)."""
    with access_log.open("rb") as log:
        log.seek(start)
        lines = log.read().decode().splitlines()
    found = []
    for line in lines:
        if '"POST ' in line and line.endswith(">"):
            path = line.split('"POST ', 1)[1].split('"', 1)[0]
            micros, pid = line.rsplit(" ", 2)[1:]
            found.append((path, int(micros.removesuffix("us")) / 1e6, int(pid[1:-1])))
    return found


def served_per_worker(access_log: Path) -> Counter:
    """Calls' requests each worker has answered, by pid, from the access log."""
    return Counter(pid for _, _, pid in access_lines(access_log))


# --- figures ------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="requests a second of the latency phase")
    parser.add_argument("--seconds", type=float, default=20, help="length of the latency phase")
    parser.add_argument("--burst-rate", type=float, default=500, help="requests a second of the burst phase")
    parser.add_argument("--burst-seconds", type=float, default=10, help="length of the burst phase")
    parser.add_argument("--requests-per-worker", type=int, default=10_000,
                        help="requests each worker serves before its peak memory is read")
    parser.add_argument("--warm-up", type=int, default=1000, help="untimed requests before the first phase")
    parser.add_argument("--details", action="store_true",
                        help="also print each phase's latencies, the time in the workers and their CPU a request")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="before each timed phase, wait up to this many seconds for other work on the machine "
                             "to stop (0: don't)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, fresh_database(scratch) as database_url:
        database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(f"web benchmark: {database}, {os.cpu_count()} cores; gunicorn, {WORKERS} workers, the Procfile's settings "
              f"(production, JSON logs at INFO, access log); whole calls replayed from a second process, new "
              f"connection per request; {args.warm_up:,} requests untimed, {args.rate:g} req/s for {args.seconds:g} s, "
              f"{args.burst_rate:g} req/s for {args.burst_seconds:g} s, then a top-up to {args.requests_per_worker:,} "
              f"requests per worker",
              flush=True)
        flows = learn_flows(database_url)
        validator = RequestValidator(TOKEN)
        port = free_port()
        access_log, error_log = Path(scratch) / "access.log", Path(scratch) / "app.log"
        server = start_gunicorn(port, app_environment(database_url), access_log, error_log)
        try:
            # Untimed: each worker's first requests compile statements and load what the app loads lazily.
            phase(server, database_url, access_log, 0, closed_loop, port, replay(flows, validator, args.warm_up, seed=9), 2)
            steady = phase(server, database_url, access_log, args.quiet_wait, open_loop, port,
                           replay(flows, validator, int(args.rate * args.seconds), seed=0), args.rate)
            burst = phase(server, database_url, access_log, args.quiet_wait, open_loop, port,
                          replay(flows, validator, int(args.burst_rate * args.burst_seconds), seed=1), args.burst_rate)
            top_up_errors, top_up_sent, top_up_seconds, top_up_noise = [], 0, 0.0, []
            for _ in range(10):
                served = served_per_worker(access_log)
                pids = worker_pids(server)
                short = max(args.requests_per_worker - min(served.get(pid, 0) for pid in pids), 0)
                if not short:
                    break
                # The workers share the work unevenly: send more than the slowest one still needs.
                batch = int(short * WORKERS * 1.1) + 100
                outcome = phase(server, database_url, access_log, 0, closed_loop, port,
                                replay(flows, validator, batch, seed=len(top_up_noise) + 2), 4)
                top_up_noise.append(outcome["noise"])
                top_up_errors += outcome["errors"]
                top_up_sent += batch
                top_up_seconds += outcome["elapsed"]
            served = served_per_worker(access_log)
            pids = worker_pids(server)
            memory = {pid: peak_rss_mb(pid) for pid in pids}
            app_errors = [line for line in error_log.read_text().splitlines() if '"ERROR"' in line]
        finally:
            server.terminate()
            server.wait(10)

    steady_p50, steady_p99 = percentile(steady["latencies"], 50), percentile(steady["latencies"], 99)
    burst_slow = sum(1 for latency in burst["latencies"] if latency > SLOW_S)
    for label, result in ((f"{args.rate:g} req/s", steady), (f"{args.burst_rate:g} req/s", burst)):
        print(f"  machine during {label}: {result['noise']}")
    if top_up_noise:
        print(f"  machine during the top-up: {top_up_noise[-1]}")
    if args.details:
        for rate, result in ((args.rate, steady), (args.burst_rate, burst)):
            latencies = result["latencies"]
            sent = len(latencies) + len(result["errors"])
            print(f"  {rate:g} req/s: {sent:,} requests in {result['elapsed']:.1f} s, {len(result['errors'])} errors; "
                  f"latency p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}, "
                  f"p99.9 {ms(percentile(latencies, 99.9))}, max {ms(max(latencies, default=float('nan')))}")
            in_workers = [seconds for _, seconds, _ in result["in_workers"]]
            worst = percentile(in_workers, 99)
            slowest = Counter(path.split("?")[0] for path, seconds, _ in result["in_workers"]
                              if seconds >= worst).most_common(3)
            print(f"    in the workers (access log): p50 {ms(percentile(in_workers, 50))}, p99 {ms(worst)}; "
                  f"their slowest 1%: {', '.join(f'{path} {count}' for path, count in slowest)}")
            database_cpu = (f", PostgreSQL's {result['database_cpu'] / max(sent, 1) * 1000:.1f} ms"
                            if database == "PostgreSQL" else "")
            print(f"    CPU a request: the workers' {result['worker_cpu'] / max(sent, 1) * 1000:.1f} ms{database_cpu}; "
                  f"the load generator sent p99 {ms(percentile(result['lags'], 99))} late")
        if top_up_sent:
            print(f"  top-up: {top_up_sent:,} requests from 4 clients back to back in {top_up_seconds:.1f} s "
                  f"({top_up_sent / top_up_seconds:.0f} req/s, about what the machine can answer), "
                  f"{len(top_up_errors)} errors")
    every_error = steady["errors"] + burst["errors"] + top_up_errors
    if every_error:
        print(f"  errors, e.g. {every_error[:3]}")
    if app_errors:
        print(f"  the app logged {len(app_errors)} errors, e.g. {app_errors[0][:300]}")

    steady_ok = steady_p99 < P99_TARGET_MS / 1000 and not steady["errors"]
    print(f"{verdict(steady_ok)}  p99 at {args.rate:g} req/s ({database}): {ms(steady_p99)} "
          f"(target < {P99_TARGET_MS} ms), {len(steady['errors'])} errors (p50 {ms(steady_p50)}, "
          f"{len(steady['latencies']) + len(steady['errors']):,} requests)")
    burst_ok = not burst["errors"] and not burst_slow
    print(f"{verdict(burst_ok)}  {args.burst_rate:g} req/s ({database}): {len(burst['errors'])} errors, "
          f"{burst_slow} of {len(burst['latencies']):,} answers over {SLOW_S:g} s, slowest "
          f"{ms(max(burst['latencies'], default=float('nan')))} (target: no error, none over {SLOW_S:g} s)")
    enough = all(served.get(pid, 0) >= args.requests_per_worker for pid in pids)
    memory_ok = enough and all(mb < RSS_TARGET_MB for mb in memory.values())
    print(f"{verdict(memory_ok)}  peak RSS per web worker ({database}): "
          f"{', '.join(f'{memory[pid]:.0f} MB after {served.get(pid, 0):,} requests' for pid in pids)} "
          f"(target < {RSS_TARGET_MB} MB after {args.requests_per_worker:,})")


if __name__ == "__main__":
    main()
