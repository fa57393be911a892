"""The database: engine and sessions for the app, and the schema upgrade through Alembic.

The caller owns the session and the transaction: web requests get one per request
(`request_session()`), the clock and the CLI open their own with `session_scope(app)`.
"""

from __future__ import annotations

import fcntl
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, Executable, Insert, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ivr.config import PROJECT_DIR

SQLITE_BUSY_TIMEOUT_MS = 5000
CONNECT_DEADLINE_SECONDS = 1.5
# A pooled connection idle longer than this is pinged with a query before use; one used more
# recently only has its socket looked at (see `_check_on_checkout`).
PING_AFTER_IDLE_SECONDS = 10.0


def make_engine(url: str, *, autocommit: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys. With
    `autocommit`, each statement on a PostgreSQL connection commits as it runs (`standalone_write`).

    Errors never carry the statement's values (callers' numbers, texts' words): they end up in
    logged tracebacks.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5, pool_timeout=1, hide_parameters=True,
                           connect_args={"connect_timeout": 2} if url.startswith("postgresql") else {},
                           **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))

    @event.listens_for(engine, "do_connect")
    def _connect_within_deadline(dialect, _record, cargs, cparams):
        return connect_within(CONNECT_DEADLINE_SECONDS, lambda: dialect.connect(*cargs, **cparams))

    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", partial(_check_on_checkout, engine.dialect))
    return engine


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _check_on_checkout(dialect, dbapi_connection, record, _proxy) -> None:
    """Hand out only a connection the server still holds open, so no request meets a dead one.

    After a database restart every pooled connection is dead, and the server said so as it went:
    it sent a last message and closed the socket, which is then readable although we asked nothing.
    Looking at the socket costs no round trip, unlike a query on every checkout; a connection idle
    long enough for a silent drop (a firewall, a load balancer) is pinged with a query instead.
    """
    checked_in = record.info.get("checked_in")
    if checked_in is None:  # new: just connected
        return
    if time.monotonic() - checked_in > PING_AFTER_IDLE_SECONDS:
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            alive = not dialect.is_disconnect(error, dbapi_connection, None)
            if alive:
                raise
        if not alive:
            raise InvalidatePoolError("the database closed an idle connection")
        return
    if _closed_by_server(dbapi_connection):
        # The others went the same way: replace every connection older than this one.
        raise InvalidatePoolError("the database closed a pooled connection")


def _closed_by_server(dbapi_connection) -> bool:
    """Whether the server has closed (or is closing) an idle psycopg connection, without asking it."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:  # another driver: trust it
        return False
    from psycopg.pq import ConnStatus  # loaded already (psycopg made the connection); ~9 MB SQLite need not pay

    if pgconn.status != ConnStatus.OK:
        return True
    # Between requests nothing is owed to us: anything to read, a hang-up or an error means the end.
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def connect_within(seconds: float, connect):
    """Open a connection, or raise OperationalError once `seconds` have passed.

    A caller must hear help within 2 seconds even when the database hangs, and the driver will not
    give up connecting sooner than 2 seconds (libpq's floor). A connection that arrives after we
    stopped waiting is closed.
    """
    arrived: dict = {}
    lock = threading.Lock()
    done = threading.Event()

    def attempt():
        try:
            connection = connect()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            arrived["error"] = error
        else:
            with lock:
                if done.is_set():
                    connection.close()
                    return
                arrived["connection"] = connection
        done.set()

    threading.Thread(target=attempt, name="db-connect", daemon=True).start()
    if not done.wait(seconds):
        with lock:
            if "connection" not in arrived:
                done.set()
                raise OperationalError("connect", {}, TimeoutError(f"the database did not answer within {seconds}s"))
    if "error" in arrived:
        raise arrived["error"]
    return arrived["connection"]


def init_app(app: Flask) -> None:
    """Build the engines and session factory once and close each request's session after it.

    On PostgreSQL, writes that stand alone get a second engine whose connections stay in autocommit
    (`standalone_write`); disposing of the main engine disposes of it too.
    """
    url = app.config["DATABASE_URL"]
    engine = make_engine(url)
    app.extensions["db.engine"] = engine
    app.extensions["db.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name == "postgresql":
        writer = make_engine(url, autocommit=True)
        event.listen(engine, "engine_disposed", lambda _engine: writer.dispose())
        app.extensions["db.writer"] = writer
    else:
        app.extensions["db.writer"] = engine
    app.teardown_appcontext(_close_request_session)


def request_session() -> Session:
    """The session of the current request (opened on first use)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db.sessionmaker"]()
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session for work outside a request: committed on success, rolled back on error."""
    session: Session = app.extensions["db.sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# The databases we run on, each with its INSERT ... ON CONFLICT.
INSERTS_WITH_ON_CONFLICT = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


def insert_unless_duplicate(runner: Session | Connection, model: type, unique_column: str,
                            columns: tuple[str, ...], *, returning_id: bool = True) -> Insert:
    """An INSERT of one row that does nothing when a row with the same `unique_column` exists; it
    returns the new row's id (nothing for a duplicate), or with `returning_id=False` nothing at all.
    Each of `columns` takes the parameter of its name.

    One statement instead of a SAVEPOINT, an INSERT that fails and a rollback to the savepoint: how
    a webhook Twilio retries stays idempotent.
    """
    return _insert_unless_duplicate(dialect_name(runner), model.__table__, unique_column, columns, returning_id)


def dialect_name(runner: Session | Connection) -> str:
    """"postgresql" or "sqlite": the database behind a session or a connection."""
    return (runner if isinstance(runner, Connection) else runner.get_bind()).dialect.name


def connection_of(runner: Session | Connection) -> Connection:
    """The connection itself, or the session's (in its transaction)."""
    return runner if isinstance(runner, Connection) else runner.connection()


@lru_cache(maxsize=None)
def _insert_unless_duplicate(dialect: str, table, unique_column: str, columns: tuple[str, ...],
                             returning_id: bool) -> Insert:
    # Built once: building a statement and its cache key costs more than SQLite's work on the row.
    # The table's plain INSERT, not the ORM's: its bulk-insert machinery costs more than the row.
    statement = (INSERTS_WITH_ON_CONFLICT[dialect](table)
                 .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
                 .on_conflict_do_nothing(index_elements=[unique_column]))
    return statement.returning(table.c.id) if returning_id else statement


# --- statements run straight on the driver --------------------------------------------------------


def run_on_driver(runner: Session | Connection, statement: Executable, parameters: Mapping[str, Any]) -> Any:
    """Run a statement built once (the same object every time) on the driver's own cursor; the
    first column of the first row it returns, as the driver gives it (an id), or None.

    For the writes a call makes at every step that stores something: SQLAlchemy compiles the
    statement once and converts each parameter as it would (a UTC time to the stored form), but
    its execution machinery, which costs more CPU than the database's work on the row, is skipped.
    Errors come out as from `Connection.execute`: SQLAlchemy's exceptions, parameters hidden, and
    a connection the database dropped is invalidated so the pool replaces it. Engine events
    (`before_cursor_execute` and the like) do not fire. Given a session, it runs in the session's
    transaction, and nothing pending in the session is flushed first.
    """
    connection = connection_of(runner)
    dialect = connection.dialect
    prepared = _on_driver(statement, dialect)
    values = {**prepared.given, **parameters}
    if missing := prepared.required - values.keys():
        raise TypeError(f"no value given for {', '.join(sorted(missing))}")
    for name, convert in prepared.conversions:
        values[name] = convert(values[name])
    arguments = values if prepared.order is None else [values[name] for name in prepared.order]
    if not connection.in_transaction():
        connection.begin()  # as `execute` would: the caller's commit() must find it
    pooled = connection.connection
    cursor = None
    try:
        cursor = pooled.cursor()
        cursor.execute(prepared.sql, arguments)
        row = cursor.fetchone() if cursor.description else None
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(prepared.sql, arguments, error, dialect.loaded_dbapi.Error, hide_parameters=True,
                                  connection_invalidated=lost, dialect=dialect) from error
    finally:
        if cursor is not None:
            cursor.close()
    return None if row is None else row[0]


@dataclass(frozen=True)
class _DriverStatement:
    sql: str
    order: tuple[str, ...] | None  # the parameters in placeholder order (SQLite's ?); None when named
    given: Mapping[str, Any]  # the values written into the statement itself (its literals), converted
    required: frozenset[str]  # the parameters the caller gives
    conversions: tuple[tuple[str, Callable[[Any], Any]], ...]  # of the caller's values, for the driver


@lru_cache(maxsize=64)
def _on_driver(statement: Executable, dialect: Dialect) -> _DriverStatement:
    compiled = statement.compile(dialect=dialect)
    # Columns left to their defaults: a fixed value is written in as SQLAlchemy would; one
    # computed as the statement runs (a function) is not, so such a statement is refused.
    defaults = {column.key: column.default for column in compiled.insert_prefetch}
    defaults |= {column.key: column.onupdate for column in compiled.update_prefetch}
    if computed := sorted(name for name, default in defaults.items() if not default.is_scalar):
        raise ValueError(f"give {', '.join(computed)} a value to run the statement on the driver")
    given, required, conversions = {}, set(), {}
    for bind, name in compiled.bind_names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in defaults:
            given[name] = defaults[name].arg if convert is None else convert(defaults[name].arg)
        elif bind.required:
            required.add(name)
            if convert is not None:
                conversions[name] = convert
        else:
            given[name] = bind.effective_value if convert is None else convert(bind.effective_value)
    order = tuple(compiled.positiontup) if compiled.positional else None
    return _DriverStatement(compiled.string, order, given, frozenset(required), tuple(conversions.items()))


@contextmanager
def standalone_write(app: Flask) -> Iterator[Connection]:
    """A connection for one write that stands alone: nothing else must commit or fail with it.

    On PostgreSQL the connection is in autocommit, so its statement commits as it runs, as durably
    as with COMMIT, without the BEGIN and COMMIT round trips. Its engine keeps its connections that
    way, rather than switching one over on each checkout and back on return (about 0.07 ms of CPU
    and as much waiting a write). So the block is for one statement that writes: with two, a
    failure in the second would leave the first stored. Reads may come before or after.

    On SQLite the block is one transaction, committed when it ends, in its turn (`WriterTurns`).
    """
    engine: Engine = app.extensions["db.writer"]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            yield connection
            return
        with _writer_turn(connection), connection.begin():
            yield connection


class WriterTurns:
    """The writers of one SQLite database, in every process, taking turns through a lock file.

    SQLite lets one writer in at a time. One that finds the file busy polls it, sleeping 1, 2, 5,
    10 ms and more between tries, however soon the file was free: with two web workers booking at
    once, a tenth of their time went in those sleeps. A writer waiting for the lock file (flock)
    sleeps in the kernel instead and wakes as soon as the turn is free. SQLite's own locking still
    decides; a writer that takes no turn (a staff page, the clock's claims) waits SQLite's way.
    """

    def __init__(self, database_path: str):
        self.path = database_path + ".writers.lock"
        self.threads = threading.RLock()  # the threads of one process (the clock's senders) in turn too
        self.depth = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self.threads:
            self.depth += 1
            try:
                if self.depth > 1:  # nested in this thread's own turn
                    yield
                    return
                # Opened for each turn: a descriptor inherited across a fork would share its lock.
                with open(self.path, "ab") as lock_file:
                    fcntl.flock(lock_file, fcntl.LOCK_EX)
                    yield  # closing the file gives the turn up
            finally:
                self.depth -= 1


@lru_cache(maxsize=None)
def writer_turns(database_path: str) -> WriterTurns:
    return WriterTurns(database_path)


def _writer_turn(connection: Connection):
    """This SQLite connection's turn to write, unless it is already writing (it holds SQLite's
    lock, so waiting for a turn could wait on a writer that waits for it) or the database is in
    memory (one connection, shared)."""
    path = connection.engine.url.database
    if not path or path == ":memory:" or connection.connection.dbapi_connection.in_transaction:
        return nullcontext()
    return writer_turns(path).turn()


def alembic_config(url: str):
    """Alembic's configuration pointing at our migrations and the given database."""
    # Imported here: web workers and the clock never migrate, and alembic costs each ~5 MB.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Create or upgrade the schema to the newest migration; safe to run again."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
