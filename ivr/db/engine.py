"""Engines for SQLite (the default) and PostgreSQL (production)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

SQLITE_BUSY_TIMEOUT_SECONDS = 5
POSTGRESQL_CONNECT_TIMEOUT_SECONDS = 2  # libpq's smallest


def make_engine(url: str) -> Engine:
    """An engine for `url`. SQLite gets WAL (readers never wait for the writer), a busy timeout and
    enforced foreign keys; PostgreSQL gets a connect timeout, and each pooled connection is pinged
    before use, so a database restart costs the next caller nothing.

    Errors never carry the statement's values (callers' numbers, texts' words): they end up in
    logged tracebacks.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"connect_timeout": POSTGRESQL_CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
