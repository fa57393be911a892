"""Shared fixtures: an app on a fresh, migrated database; clients that sign requests like Twilio.

The suite runs on SQLite; with IVR_TEST_ON_POSTGRES=1 and TEST_DATABASE_URL set (./dev test does
this when the variable is set) every test runs on a private PostgreSQL database instead.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.db.migrations import upgrade
from ivr.db.sessions import session_scope
from ivr.models import Base, Callback
from ivr.walker import Call
from tests.services import NGINX, Deployed, deployed_behind_nginx
from tests.twilio_double import ACCOUNT_SID, AUTH_TOKEN, TwilioDouble

PUBLIC_URL = "https://rj-helpline.example.org"
HELPLINE_NUMBER = "+441642000000"
# Ofcom's drama ranges (07700 900xxx) are not valid numbers to phonenumbers, so tests use these.
MOBILE = "+447911123456"
LANDLINE = "+441642123456"
LONDON = ZoneInfo("Europe/London")


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
        "SECRET_KEY": "test-secret-key-long-enough-for-production",
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": HELPLINE_NUMBER,
        "LOG_FORMAT": "text",
        "SPOOL_DIR": str(tmp_path / "spool"),
        # A closure a test adds reaches its next call at once (test_cli checks the cache time itself).
        "OFFICE_HOURS_CACHE_SECONDS": 0,
    }


@pytest.fixture
def app(app_config: dict):
    app = create_app(app_config)
    yield app
    app.extensions["db.engine"].dispose()


@pytest.fixture
def double():
    """Twilio's REST API, played locally: the real twilio SDK talks HTTP to it (tests/twilio_double.py)."""
    with TwilioDouble() as running:
        yield running


class Clock:
    """The time this process sees, standing still wherever a test puts it (time-machine).

    `clock.moment = when` moves it, for every thread, until it is moved again or the test ends;
    `with clock.at(when):` only for the block, after which time is what it was before. Reading
    `clock.moment` gives the time now. time-machine moves time.time() and datetime.now(), not
    time.monotonic(): the clock's sending rate and the Twilio double's arrival times keep real seconds.
    """

    def __init__(self):
        self._travel: time_machine.travel | None = None
        self._traveller: time_machine.Traveller | None = None

    @property
    def moment(self) -> datetime:
        return datetime.now(timezone.utc)

    @moment.setter
    def moment(self, when: datetime) -> None:
        if self._traveller is None:
            self._travel = time_machine.travel(when, tick=False)
            self._traveller = self._travel.start()
        else:
            self._traveller.move_to(when)

    @contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        before = self.moment if self._traveller else None
        self.moment = when
        try:
            yield
        finally:
            if before is None:
                self.stop()
            else:
                self.moment = before

    def stop(self) -> None:
        """Let real time run again."""
        if self._travel is not None:
            self._travel.stop()
            self._travel = self._traveller = None


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The one way tests fake the time: `clock.moment = utc(2026, 11, 30, 9)`."""
    faked = Clock()
    yield faked
    faked.stop()


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

    booked = book_callback(session, region="cleveland", phone_number=number, number_source="caller", is_mobile=True,
                           starts=starts, ends=ends, voicemail_ok=False, texts_ok=texts_ok, now=now,
                           call_sid="CA" + uuid.uuid4().hex)
    return session.get(Callback, booked.callback_id)


# --- staff pages --------------------------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch):
    """Still Argon2id, but with test-sized costs: the real ones take a noticeable moment per hash."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("ivr.staff.accounts.hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class StaffActions:
    """Does what an officer's browser does: signs in and out, and sends forms with their CSRF token."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def create(self, email: str = "officer@example.org", role: str = "staff", password: str = STAFF_PASSWORD) -> int:
        from ivr.staff import accounts

        with session_scope(self.app) as session:
            return accounts.create_account(session, email, password, role, datetime.now(timezone.utc)).id

    def login(self, email: str = "officer@example.org", password: str = STAFF_PASSWORD, role: str = "staff"):
        """Sign in, creating the account first if it does not exist yet."""
        from ivr.staff import accounts

        with session_scope(self.app) as session:
            exists = accounts.find(session, email) is not None
        if not exists:
            self.create(email, role, password)
        return self.client.post("/staff/sign-in", data={"email": email, "password": password,
                                                         "csrf_token": self.csrf_token("/staff/sign-in")})

    def csrf_token(self, page: str = "/staff/") -> str:
        match = CSRF_FIELD.search(self.client.get(page).get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, page: str = "/staff/", **kwargs):
        """Post a form from `page` (whose CSRF token it carries) to `path`."""
        return self.client.post(path, data={"csrf_token": self.csrf_token(page), **(data or {})}, **kwargs)

    def logout(self):
        return self.post("/staff/sign-out")


@pytest.fixture
def staff_login(app, client) -> StaffActions:
    return StaffActions(app, client)


@pytest.fixture
def make_callback(app):
    """Books a callback the way the phone line does (book_callback); returns its id.

    By default the first window still open now, for a mobile that agreed to texts and voicemail:
    MOBILE the first time, then other mobiles (one booking a number and window).
    """
    from ivr import callbacks, closures, current_time
    from ivr.phone import is_mobile

    made = itertools.count()

    def make(*, day=None, window: str = "morning", phone_number: str | None = None, region: str = "cleveland",
             voicemail_ok: bool = True, texts_ok: bool = True, call_sid: str | None = None) -> int:
        phone_number = phone_number or f"+4479111234{56 + next(made):02d}"
        helpline = app.extensions["helpline"]
        with app.app_context(), session_scope(app) as session:
            now = current_time.now()
            if day is None:
                hours = closures.office_hours(session, helpline, now)
                chosen = callbacks.open_slots(helpline, callbacks.offered_days(helpline, hours, now)[0], now)[0]
            else:
                chosen = callbacks.slot(day, helpline.callback_window(window))
            return callbacks.book_callback(
                session, region=region, phone_number=phone_number, number_source="caller",
                is_mobile=is_mobile(phone_number), starts=chosen.starts, ends=chosen.ends, voicemail_ok=voicemail_ok,
                texts_ok=texts_ok, now=now, call_sid=call_sid or f"CA{uuid.uuid4().hex}").callback_id

    return make


def at_london(*args) -> datetime:
    """A moment given as London wall-clock time, in UTC: at_london(2026, 11, 30, 9)."""
    return datetime(*args, tzinfo=LONDON).astimezone(timezone.utc)


# Monday 30 November 2026, mid-morning: the office is open.
MONDAY_MORNING = at_london(2026, 11, 30, 10, 0)
# Saturday 28 November 2026: closed; the office opens again on Monday.
SATURDAY = at_london(2026, 11, 28, 10, 0)


@pytest.fixture
def book_by_phone(app, clock):
    """Books a callback by playing a whole call, as a caller would, through the TwiML walker; returns its id.

    Requests are signed as Twilio signs them. Time stands at `at` only while the call is played:
    an app serving a browser from another thread has the real clock again before and after.
    The default keys: a callback (4), the first day offered, the morning, the number rung from,
    voicemail allowed, and (a mobile) a text reminder.
    """
    from ivr.voice.phone_cli import transport

    def book(from_number: str = MOBILE, at: datetime = SATURDAY, keys: str = "4,1,1,1,1,1") -> int:
        with clock.at(at):
            call = Call(transport(app), from_number, HELPLINE_NUMBER).start()
            for key in keys.split(","):
                call.press(key)
        assert call.ended and "We'll call you on" in call.heard, call.transcript
        with session_scope(app) as session:
            return session.scalars(select(Callback.id).where(Callback.call_sid == call.call_sid)).one()

    return book


class Phone:
    """Rings the helpline through the TwiML walker, with requests signed as Twilio signs them.

    A call is made at a moment London time, where the clock then stands (a test may move it on).
    `posts` keeps every request, so a test can replay one as Twilio's retry would.
    """

    def __init__(self, twilio: TwilioSigner, clock: Clock):
        self.twilio, self.clock = twilio, clock
        self.posts: list[tuple[str, dict]] = []

    def transport(self, url: str, params: dict) -> str:
        self.posts.append((url, dict(params)))
        return self.twilio.post(url, params).get_data(as_text=True)

    def ring(self, from_number: str | None = MOBILE, at: datetime = MONDAY_MORNING,
             answers: str = "completed", start_url: str = "/voice/incoming") -> Call:
        """A started call from `from_number` (None: withheld) at `at`; team lines end as `answers`."""
        self.clock.moment = at
        return Call(self.transport, from_number, HELPLINE_NUMBER, dial_outcome=answers, start_url=start_url).start()

    def replay_last(self):
        """Post the last request again, as Twilio does when an answer was slow."""
        url, params = self.posts[-1]
        return self.twilio.post(url, params)


@pytest.fixture
def phone(twilio, clock) -> Phone:
    return Phone(twilio, clock)


# --- as deployed ---------------------------------------------------------------------------------


def production_settings(database_url: str, double, folder: Path, **more: str) -> dict[str, str]:
    """What an operator sets for the web and clock processes in production, with the local Twilio
    double standing in for Twilio; `more` adds or overrides settings."""
    return {
        "IVR_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "a-secret-key-for-the-production-tests-" + "x" * 16,
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": double.account_sid,
        "TWILIO_AUTH_TOKEN": double.auth_token,
        "TWILIO_API_BASE_URL": double.base_url,
        "TWILIO_PHONE_NUMBER": HELPLINE_NUMBER,
        "SPOOL_DIR": str(folder / "spool"),
    } | more


@pytest.fixture(params=[1, 0], ids=["TRUSTED_PROXY_HOPS=1", "TRUSTED_PROXY_HOPS=0"])
def behind_nginx(request, database_url, double, tmp_path) -> Iterator[Deployed]:
    """The Procfile's web process with an operator's production settings, behind nginx over https.

    With TRUSTED_PROXY_HOPS=1 the app reads X-Forwarded-Proto/-For itself (the README's advice);
    with 0 gunicorn does, trusting them from a proxy on the same machine."""
    if not NGINX.exists():
        pytest.skip(f"Debian's nginx is not installed at {NGINX} (./dev test installs it)")
    with deployed_behind_nginx(production_settings(database_url, double, tmp_path,
                                                   TRUSTED_PROXY_HOPS=str(request.param)), tmp_path) as service:
        yield service
