"""Benchmark: the voice webhooks under gunicorn (2 workers) beside a bare Flask endpoint.

    ./dev bench web [--seconds 5] [--rounds 3] [--rate 200] [--concurrency 8]

Whole calls (welcome, menus, information, a booking, a voicemail) are first played in-process
through the TwiML walker to learn the requests Twilio would send; a second process then replays
them over HTTP, each virtual call with its own CallSid and a fresh Twilio signature. It reports:

- latency (p50/p99) of every step at a fixed arrival rate (default 200 requests a second);
- throughput at saturation of menu steps, of each step that writes (the booking's last step, a
  voicemail), and of a bare Flask endpoint served by the same gunicorn settings: the machine's
  ceiling. The phases take turns for several rounds, each compared with the bare endpoint of its
  own round, and the median round is reported, so a slow spell of a shared machine does not fall
  on one phase alone;
- the peak resident memory of each web worker.

SQLite by default; with TEST_DATABASE_URL set, a fresh PostgreSQL database on that server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from ivr.prompts import load_prompts  # noqa: E402
from tests.bench.common import fresh_database, peak_rss_mb  # noqa: E402

PUBLIC_URL = "https://rj-bench.example.org"
TOKEN = "bench-token-0123456789abcdef0123"
SID = "AC" + "b" * 32
MOBILE = "+447911123456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "IVR_ENV": "production", "DATABASE_URL": database_url, "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID, "SECRET_KEY": "bench-secret",
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}


# --- learning the calls -------------------------------------------------------------------------

FLOWS = {
    # name: the caller's actions after the welcome; ("write", ...) marks the step that stores a row
    "information": [("press", "1"), ("press", "2"), ("hang_up",)],
    # Day 2 always has a morning left, whatever the time of the run.
    "booking": [("press", "4"), ("press", "2"), ("press", "1"), ("press", "1"), ("press", "1"), ("write", "press", "1")],
    "voicemail": [("press", "3"), ("press", "1"), ("press", "1"), ("write", "record", 20, "#")],
}


def learn_flows(database_url: str) -> dict[str, list[tuple[str, dict, bool]]]:
    """Play each flow once in-process and keep the (url, params, writes) of every request."""
    from ivr import create_app
    from ivr.walker import Call

    config = {k: v for k, v in app_environment(database_url).items() if k in
              ("DATABASE_URL", "PUBLIC_URL", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "SECRET_KEY")}
    app = create_app({**config, "TWILIO_API_BASE_URL": "http://127.0.0.1:9"})
    client, validator = app.test_client(), RequestValidator(TOKEN)
    flows = {}
    for name, actions in FLOWS.items():
        seen: list[tuple[str, dict, bool]] = []
        marking = [False]

        def post(url, params, seen=seen, marking=marking):
            path = url.removeprefix(PUBLIC_URL)
            seen.append((path, dict(params), marking[0]))
            signature = validator.compute_signature(PUBLIC_URL + path, params)
            return client.post(path, data=params, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)

        call = Call(post, from_number=MOBILE, dial_outcome="no-answer").start()
        for action in actions:
            if call.ended:
                break
            marking[0] = action[0] == "write"
            verb, *args = action[1:] if marking[0] else action
            getattr(call, verb)(*args)
        flows[name] = seen
    app.extensions["db.engine"].dispose()
    return flows


def virtual_call(flow: list[tuple[str, dict, bool]], validator: RequestValidator) -> list[tuple[str, bytes, str, bool]]:
    """The flow's requests for a new call: its own CallSid and RecordingSid, signed afresh."""
    call_sid, recording_sid = "CA" + uuid.uuid4().hex, "RE" + uuid.uuid4().hex
    requests = []
    for path, params, writes in flow:
        params = {**params, "CallSid": call_sid}
        if "RecordingSid" in params:
            params["RecordingSid"] = recording_sid
        signature = validator.compute_signature(PUBLIC_URL + path, params)
        requests.append((path, urlencode(params).encode(), signature, writes))
    return requests


# --- driving load (in a second process) ---------------------------------------------------------

# An answer that apologises is the fallback after a failure, not a served step: counted as an error.
APOLOGY = load_prompts().lines("sorry")[0].encode()


def send(port: int, path: str, body: bytes, signature: str) -> float:
    started = time.perf_counter()
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                            "X-Twilio-Signature": signature})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    if response.status != 200 or b"<Response" not in payload or APOLOGY in payload:
        raise RuntimeError(f"{path} answered {response.status}: {payload[:160]!r}")
    return time.perf_counter() - started


def fixed_rate(port: int, calls: list, rate: float, seconds: float, results) -> None:
    """Open loop: requests leave at `rate` a second whatever the answers; latency from the planned start."""
    steps = [step for call in calls for step in call]  # a call's steps in order, calls one after another
    total = min(len(steps), int(rate * seconds))
    latencies, errors, lock = [], [], threading.Lock()
    start = time.perf_counter() + 0.2
    next_index = iter(range(total))

    def worker():
        for i in next_index:
            planned = start + i / rate
            delay = planned - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            path, body, signature, _ = steps[i]
            try:
                send(port, path, body, signature)
                with lock:
                    latencies.append(time.perf_counter() - planned)
            except Exception as error:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(str(error))

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put({"latencies": latencies, "errors": errors[:3], "error_count": len(errors)})


def saturate(port: int, steps: list, concurrency: int, seconds: float, results) -> None:
    """Closed loop: `concurrency` clients send back-to-back for `seconds`; count what got answered."""
    done, errors, lock = [0], [], threading.Lock()
    items = iter(steps)
    deadline = time.perf_counter() + seconds

    def worker():
        while time.perf_counter() < deadline:
            try:
                path, body, signature, _ = next(items)
            except StopIteration:
                return
            try:
                send(port, path, body, signature)
                with lock:
                    done[0] += 1
            except Exception as error:  # noqa: BLE001
                with lock:
                    errors.append(str(error))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put({"rps": done[0] / (time.perf_counter() - started), "errors": errors[:3], "error_count": len(errors)})


def begin_calls(port: int, calls: list, concurrency: int, results) -> None:
    """Untimed: each call's steps before the one that writes, calls side by side."""
    pending, errors = iter(calls), []

    def worker():
        for call in pending:
            for path, body, signature, writes in call:
                if not writes:
                    try:
                        send(port, path, body, signature)
                    except Exception as error:  # noqa: BLE001 - reported
                        errors.append(str(error))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put({"errors": errors[:3], "error_count": len(errors)})


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def in_second_process(target, *args):
    results = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, results))
    process.start()
    outcome = results.get()
    process.join()
    return outcome


# --- servers ------------------------------------------------------------------------------------

def start_gunicorn(app_spec: str, port: int, env: dict[str, str], warm_up: tuple[str, str], log: Path) -> subprocess.Popen:
    """Start gunicorn and wait until both workers have loaded the app and answered.

    The master accepts connections before its workers are ready; timing from then would measure
    the workers' start-up, not the service.
    """
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", app_spec]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log.open("w"))
    method, path = warm_up
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if len(worker_pids(server)) == 2:
                for _ in range(40):
                    connection = HTTPConnection("127.0.0.1", port, timeout=10)
                    connection.request(method, path)
                    connection.getresponse().read()
                    connection.close()
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"gunicorn for {app_spec} did not start")


def worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, fresh_database(scratch) as database_url:
        flows = learn_flows(database_url)
        validator = RequestValidator(TOKEN)
        env = app_environment(database_url)
        app_port, bare_port = free_port(), free_port()
        app_log = Path(scratch) / "app.log"
        app_server = start_gunicorn("ivr:create_app()", app_port, env, ("GET", "/healthz"), app_log)
        bare_server = start_gunicorn("tests.bench.bare_app:app", bare_port, env, ("POST", "/"), Path(scratch) / "bare.log")
        try:
            needed = int(args.rate * args.seconds) + 100
            mixed = []
            while sum(map(len, mixed)) < needed:
                for flow in flows.values():
                    mixed.append(virtual_call(flow, validator))
            at_rate = in_second_process(fixed_rate, app_port, mixed, args.rate, args.seconds)

            # The saturation phases take turns, round after round, so a slow spell of a shared
            # machine falls on all of them alike; each reports its median round.
            rounds: dict[str, list[dict]] = defaultdict(list)
            plenty = int(args.seconds * 3000)
            for _ in range(args.rounds):
                menu_steps = [s for call in (virtual_call(flows["information"], validator) for _ in range(plenty // 3))
                              for s in call if not s[3]]
                rounds["menus"].append(in_second_process(saturate, app_port, menu_steps, args.concurrency, args.seconds))
                for flow in ("booking", "voicemail"):
                    write_calls = [virtual_call(flows[flow], validator) for _ in range(int(args.seconds * 800))]
                    rounds[f"{flow}, untimed steps"].append(
                        in_second_process(begin_calls, app_port, write_calls, args.concurrency))
                    write_steps = [s for call in write_calls for s in call if s[3]]
                    rounds[flow].append(in_second_process(saturate, app_port, write_steps, args.concurrency, args.seconds))
                bare_steps = [("/", b"", "", False)] * plenty
                rounds["bare"].append(in_second_process(saturate, bare_port, bare_steps, args.concurrency, args.seconds))
            worker_memory = [peak_rss_mb(pid) for pid in worker_pids(app_server)]
            app_errors = [line for line in app_log.read_text().splitlines() if '"ERROR"' in line]
        finally:
            for server in (app_server, bare_server):
                server.terminate()
                server.wait(10)

    latencies = sorted(at_rate["latencies"])
    quantile = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"web benchmark: gunicorn, 2 sync workers, production settings (JSON logs at INFO), {database}, "
          f"{os.cpu_count()} cores, {args.seconds:g}s per phase, {args.rounds} rounds")
    print(f"  fixed rate {args.rate:g} req/s: {len(latencies)} answered, {at_rate['error_count']} errors; "
          f"p50 {quantile[49] * 1000:.1f} ms, p99 {quantile[98] * 1000:.1f} ms")
    # Each phase against the bare endpoint of its own round (the same spell of the machine); the median round.
    bare = [r["rps"] for r in rounds["bare"]]
    for name, label in (("menus", "menu steps"), ("booking", "booking (writes)"), ("voicemail", "voicemail (writes)"),
                        ("bare", "bare Flask")):
        rps = [r["rps"] for r in rounds[name]]
        share = "" if name == "bare" else f" ({median([a / b for a, b in zip(rps, bare)]):.0%} of bare)"
        print(f"  saturation, {label + ':':20s}{median(rps):5.0f} req/s{share:14s} rounds: {', '.join(f'{r:.0f}' for r in rps)}")
    print(f"  peak RSS per web worker: {', '.join(f'{m:.0f} MB' for m in worker_memory)}")
    if app_errors:
        print(f"  the app logged {len(app_errors)} errors, e.g. {app_errors[0][:200]}")
    for name, phase in (("fixed rate", at_rate), *((n, r) for n in rounds for r in rounds[n])):
        if phase["error_count"]:
            print(f"  {name}: {phase['error_count']} errors, e.g. {phase['errors']}")


if __name__ == "__main__":
    main()
