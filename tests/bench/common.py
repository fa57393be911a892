"""What the benchmarks share: a fresh migrated database, a process's peak memory, and how busy the
machine was with other work while they ran."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ivr.db.migrations import upgrade


@contextmanager
def fresh_database(scratch: str) -> Iterator[str]:
    """A migrated database for one run: SQLite in `scratch`, or a new one on TEST_DATABASE_URL's server."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        url = f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"ivr_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak resident set size of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


# --- how busy the machine was with other work -----------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU a process has used (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _processes() -> dict[int, tuple[float, str, int]]:
    """Every process: (CPU seconds used, name, when it started)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name, rest = stat.split("(", 1)[1].rsplit(")", 1)
            fields = rest.split()
            found[int(entry.name)] = ((int(fields[11]) + int(fields[12])) / _TICK, name, int(fields[19]))
    return found


def _label(pid: int, name: str) -> str:
    """A process's name, or "pytest" for a test run (whose name is just python)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return name
    return "pytest" if b"pytest" in command else name.split("/")[0]


def _machine() -> tuple[float, float]:
    """Seconds of CPU the whole machine has been busy (all cores), and stolen by the hypervisor."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq) / _TICK, steal / _TICK


class Noise:
    """What else the machine did while a phase of a benchmark ran: CPU used by processes that are
    not the benchmark's (other engineers' test suites, say), in cores, and the share stolen by the
    hypervisor. `finish` is given the benchmark's processes still alive at the end of the phase
    (`ours`; this one is added), and the CPU of its processes that ended during it (a load
    generator's)."""

    def __init__(self):
        self.started = time.monotonic()
        self.busy, self.steal = _machine()
        self.before = _processes()

    def finish(self, ours: set[int], children_cpu: float = 0.0) -> str:
        elapsed = time.monotonic() - self.started
        busy, steal = _machine()
        after = _processes()
        ours = ours | {os.getpid()}
        used = {pid: cpu - (self.before[pid][0] if pid in self.before and self.before[pid][2] == started else 0.0)
                for pid, (cpu, _, started) in after.items()}
        ours_cpu = sum(used.get(pid, 0.0) for pid in ours) + children_cpu
        others = max(busy - self.busy - ours_cpu, 0.0) / elapsed
        by_name: dict[str, float] = {}
        for pid, cpu in used.items():
            if pid not in ours and cpu > 0:
                by_name[_label(pid, after[pid][1])] = by_name.get(_label(pid, after[pid][1]), 0.0) + cpu
        top = sorted(by_name.items(), key=lambda item: -item[1])[:2]
        named = ", ".join(f"{name} {cpu / elapsed:.2f}" for name, cpu in top if cpu / elapsed >= 0.05)
        cores = os.cpu_count() or 1
        return (f"other processes used {others:.2f} of {cores} cores{f' ({named})' if named else ''}, "
                f"steal {(steal - self.steal) / elapsed / cores:.0%}")


def database_backends(url: str) -> set[int]:
    """The PostgreSQL server processes serving connections to `url`'s database (none for SQLite)."""
    if not url.startswith("postgresql"):
        return set()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars())
    finally:
        engine.dispose()


def wait_for_quiet(longest: float, cores: float = 0.3, over: float = 3.0) -> str:
    """Wait (at most `longest` seconds) until the machine has been nearly idle (under `cores` busy)
    for `over` seconds, so a timed phase does not start in the middle of someone's test run.
    Says how long it waited, and whether the machine got quiet."""
    started = time.monotonic()
    while True:
        busy = _machine()[0]
        time.sleep(over)
        load = (_machine()[0] - busy) / over
        waited = time.monotonic() - started
        if load < cores:
            return f"waited {waited:.0f} s for a quiet machine" if waited > over + 1 else "machine quiet"
        if waited >= longest:
            return f"machine still busy ({load:.1f} cores) after {waited:.0f} s: ran anyway"
