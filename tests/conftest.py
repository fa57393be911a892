"""Shared fixtures: an app on a fresh, migrated database; clients that sign requests like Twilio.

The suite runs on SQLite; with IVR_TEST_ON_POSTGRES=1 and TEST_DATABASE_URL set (./dev test does
this when the variable is set) every test runs on a private PostgreSQL database instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.db import session_scope, upgrade
from ivr.models import Base

PUBLIC_URL = "https://rj-helpline.example.org"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HELPLINE_NUMBER = "+441642000000"
# Ofcom's drama ranges (07700 900xxx) are not valid numbers to phonenumbers, so tests use these.
MOBILE = "+447911123456"
LANDLINE = "+441642123456"


def on_postgres() -> bool:
    return os.environ.get("IVR_TEST_ON_POSTGRES") == "1" and bool(os.environ.get("TEST_DATABASE_URL"))


@pytest.fixture(scope="session")
def _migrated_database(tmp_path_factory) -> Iterator[str]:
    """A database migrated once for the session: a template file (SQLite) or a private database."""
    if not on_postgres():
        template = tmp_path_factory.mktemp("db") / "template.sqlite3"
        upgrade(f"sqlite:///{template}")
        yield f"sqlite:///{template}"
        return
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"ivr_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(_migrated_database: str, tmp_path: Path) -> str:
    """A fresh, empty, migrated database for one test."""
    if not on_postgres():
        copy = tmp_path / "ivr.sqlite3"
        shutil.copy(make_url(_migrated_database).database, copy)
        return f"sqlite:///{copy}"
    engine = create_engine(_migrated_database)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _migrated_database


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """The settings every test app gets; a test may change them before asking for `app`."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": HELPLINE_NUMBER,
        "LOG_FORMAT": "text",
    }


@pytest.fixture
def app(app_config: dict):
    app = create_app(app_config)
    yield app
    app.extensions["db.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A session for a test to look at (and arrange) what is stored; committed at the end."""
    with session_scope(app) as session:
        yield session


class TwilioSigner:
    """Posts to the app exactly as Twilio does: form-encoded, signed for PUBLIC_URL + path."""

    def __init__(self, client, token: str = AUTH_TOKEN, public_url: str = PUBLIC_URL):
        self.client = client
        self.validator = RequestValidator(token)
        self.public_url = public_url

    def signature(self, path: str, params: dict) -> str:
        return self.validator.compute_signature(self.public_url + path, params)

    def post(self, path: str, params: dict | None = None, **headers):
        params = params or {}
        headers.setdefault("X-Twilio-Signature", self.signature(path, params))
        return self.client.post(path, data=params, headers=headers)


@pytest.fixture
def twilio(client) -> TwilioSigner:
    return TwilioSigner(client)


def utc(*args) -> datetime:
    """A UTC-aware datetime, for readable test data: utc(2026, 11, 30, 9)."""
    return datetime(*args, tzinfo=timezone.utc)


def book(session, starts: datetime, ends: datetime, now: datetime, *, number: str = MOBILE, texts_ok: bool = True):
    """A callback booked by phone at `now` for the window `starts`-`ends` (its reminders planned)."""
    from ivr.callbacks import book_callback

    callback = book_callback(session, region="cleveland", phone_number=number, is_mobile=True, starts=starts,
                             ends=ends, voicemail_ok=False, texts_ok=texts_ok, now=now,
                             call_sid="CA" + uuid.uuid4().hex)
    session.flush()
    return callback
