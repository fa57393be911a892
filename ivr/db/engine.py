"""Engines for SQLite (the default) and PostgreSQL (production), and how long a process waits for them.

A caller must hear the next step within 2 seconds whatever the database does: stopped, locked by a
migration, or accepting connections and never answering. So the web's engine is impatient
(`WEB`), the clock's less so (`CLOCK`), and within a web request every wait for the database
also ends at the request's deadline (`start_deadline`). Each limit is enforced where it can be:
PostgreSQL ends a statement or a lock wait itself (its connection stays usable); a server that
never answers is given up by the client (the connection is closed); SQLite waits for another
writer only as long as its busy timeout.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from time import monotonic

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Patience:
    """How long a process waits for its database before it gives up (seconds)."""

    answer: float  # any one wait for the server, connecting included; in the web, a whole request's
    statement: float  # PostgreSQL cancels a statement running longer (statement_timeout)
    lock: float  # PostgreSQL stops a statement waiting longer for a lock (lock_timeout)
    busy: float  # SQLite waits this long for another process's write to finish


# The web (and the flask commands): the server gives up a lock, then a statement, before the
# client gives up the server, so that in a lock or a slow query the connection survives; all well
# inside the caller's 2 seconds (Twilio itself waits 15).
WEB = Patience(answer=1.2, statement=1.0, lock=0.8, busy=1.0)
# The clock: no caller waits, but a stalled pass must end so the next tick can try again.
# Longer than any statement the clock runs (retention's updates included).
CLOCK = Patience(answer=10.0, statement=8.0, lock=5.0, busy=5.0)

SQLITE_BUSY_TIMEOUT_SECONDS = 5  # tools that build an engine without a Patience (benchmarks, tests)
POSTGRESQL_CONNECT_TIMEOUT_SECONDS = 2  # libpq's smallest; `Patience.answer` may end a connect sooner

_deadline: ContextVar[float | None] = ContextVar("database_deadline", default=None)


def start_deadline(seconds: float | None) -> None:
    """From now on in this context (a web request), every wait for the database ends `seconds`
    from now, however many statements share them; None lifts the deadline."""
    _deadline.set(None if seconds is None else monotonic() + seconds)


def make_engine(url: str, patience: Patience | None = None) -> Engine:
    """An engine for `url` that waits for the database no longer than `patience` allows (None: the
    drivers' own limits, for tools). SQLite gets WAL (readers never wait for the writer) and
    enforced foreign keys; each pooled PostgreSQL connection is pinged before use, so a database
    restart costs the next caller nothing.

    Errors never carry the statement's values (callers' numbers, texts' words): they end up in
    logged tracebacks.
    """
    if url.startswith("sqlite"):
        busy = patience.busy if patience else SQLITE_BUSY_TIMEOUT_SECONDS
        engine = create_engine(url, connect_args={"timeout": busy}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    connect_args: dict = {"connect_timeout": POSTGRESQL_CONNECT_TIMEOUT_SECONDS}
    extra = {}
    if patience:
        options = make_url(url).query.get("options", "")
        connect_args["options"] = " ".join(filter(None, [
            options if isinstance(options, str) else " ".join(options),
            f"-c statement_timeout={int(patience.statement * 1000)}", f"-c lock_timeout={int(patience.lock * 1000)}"]))
        # A request that finds every pooled connection busy waits no longer for one than for an answer.
        extra["pool_timeout"] = patience.answer
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True, **extra)
    if patience and engine.dialect.driver == "psycopg":
        connection_class = _patient_psycopg_connection(patience.answer)

        @event.listens_for(engine, "do_connect")
        def _connect_patiently(_dialect, _record, cargs, cparams):
            return connection_class.connect(*cargs, **cparams)

    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@cache
def _patient_psycopg_connection(answer: float) -> type:
    """A psycopg connection that waits for the server at most `answer` seconds at a time, and never
    past the context's deadline. libpq's own limits cannot do this: its connect_timeout is at
    least 2 seconds, and a TCP user timeout never fires while the server's machine acknowledges
    what it is sent. So the client gives up the wait and closes the connection, which SQLAlchemy
    then sees as a lost connection and replaces."""
    import psycopg

    def time_left() -> float:
        deadline = _deadline.get()
        return answer if deadline is None else max(0.0, min(answer, deadline - monotonic()))

    def until(gen, limit: float):
        # psycopg's connect loop wakes this generator at least every 0.1 s, ready or not.
        if limit <= 0:  # the request's time is up: not even a connection is tried
            raise psycopg.OperationalError("no time left to connect to the database")
        give_up_at = monotonic() + limit
        wanted = next(gen)
        while True:
            ready = yield wanted
            if monotonic() >= give_up_at:
                gen.close()
                raise psycopg.OperationalError(f"the database did not answer within {limit:.1f} s (connecting)")
            try:
                wanted = gen.send(ready)
            except StopIteration as done:
                return done.value

    class PatientConnection(psycopg.Connection):
        @classmethod
        def _connect_gen(cls, conninfo: str = ""):
            return until(super()._connect_gen(conninfo), time_left())

        def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
            limit = time_left() if timeout is None else min(timeout, time_left())
            started = monotonic()
            try:
                return super().wait(gen, interval, limit)
            except psycopg.OperationalError:
                if self.closed or monotonic() - started < limit:
                    raise  # the server's own answer (a lock or statement timeout, a lost connection)
                self.close()  # given up mid-conversation: nothing more can be said on this connection
                raise psycopg.OperationalError(f"the database did not answer within {limit:.1f} s") from None

    return PatientConnection
