"""The app's sessions. The caller owns the session and the transaction: a web request gets one
(`request_session()`), closed when the request ends; the clock and the commands open their own
with `session_scope(app)` (or, for a run of small commits, `session_on_one_connection(app)`).
Domain functions take a session and never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ivr.db.engine import WEB, Patience, make_engine, start_deadline

log = logging.getLogger(__name__)


def init_app(app: Flask, patience: Patience = WEB) -> None:
    """Build the engine and the session factory once. Each request's database work, closing its
    session included, must be done within `patience.answer` of the request's start."""
    engine = make_engine(app.config["DATABASE_URL"], patience)
    app.extensions["db.engine"] = engine
    app.extensions["db.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.before_request(lambda: start_deadline(patience.answer))
    app.teardown_appcontext(_close_request_session)


def request_session() -> Session:
    """The session of the current request (opened on first use)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db.sessionmaker"]()
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    try:
        if session is not None:
            session.close()
    except SQLAlchemyError as error:
        # The connection died after the request's last statement (or its deadline passed): the
        # answer is already made, so the caller still gets it; the pool replaces the connection.
        log.warning("closing a request's database session failed: %s", type(error).__name__)
    finally:
        start_deadline(None)


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


@contextmanager
def session_on_one_connection(app: Flask) -> Iterator[Session]:
    """A session whose transactions all run on one pooled connection, for work that commits many
    small transactions in a row (a clock sender, text after text): no checkout or ping between them.
    The caller commits each one; whatever is left uncommitted at the end is rolled back."""
    with app.extensions["db.engine"].connect() as connection, \
            Session(bind=connection, expire_on_commit=False) as session:
        yield session
