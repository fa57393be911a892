"""The schema is created by migrations, safely twice; SQLite runs in WAL mode; a database that
restarts or hangs costs callers nothing; an insert Twilio repeats stores one row."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, inspect, select, text

from ivr.db.engine import make_engine
from ivr.models import Base, Call, Closure
from tests.conftest import on_postgres


def test_init_db_creates_the_schema_and_is_safe_to_run_twice(runner, app):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output
    tables = set(inspect(app.extensions["db.engine"]).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_migrations_match_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.skipif(on_postgres(), reason="SQLite only")
def test_sqlite_uses_wal_and_a_busy_timeout(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()


def test_times_come_back_utc_aware(session):
    session.add(Closure(day=datetime(2026, 12, 24).date(), reason="x", created_at=datetime(2026, 11, 1, 12, tzinfo=timezone.utc)))
    session.flush()
    session.expire_all()
    stored = session.get(Closure, datetime(2026, 12, 24).date())
    assert stored.created_at == datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    assert stored.created_at.tzinfo is not None


def test_a_hung_postgresql_server_still_gets_the_caller_help(app_config, tmp_path):
    """A server that accepts connections but never answers: the call falls back, nothing hangs."""
    import socket
    import threading

    from ivr import create_app
    from tests.conftest import TwilioSigner

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in range(8)], daemon=True).start()
    app_config["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{server.getsockname()[1]}/test"
    app = create_app(app_config)
    response = TwilioSigner(app.test_client()).post("/voice/incoming", {"CallSid": "CA" + "5" * 32, "From": "+447911123456"})
    assert response.status_code == 200
    assert b"Sorry, something's gone wrong on our side." in response.data
    assert app.test_client().get("/healthz").status_code == 503
    server.close()


@pytest.mark.skipif(not on_postgres(), reason="needs a PostgreSQL server (IVR_TEST_ON_POSTGRES=1)")
def test_after_a_database_restart_the_next_caller_is_answered_as_usual(app, database_url):
    """Every pooled connection dies in a restart; the next request must get a live one, not an error."""
    import time

    from sqlalchemy import create_engine

    from ivr.models import Call
    from tests.conftest import TwilioSigner

    phone = TwilioSigner(app.test_client())
    welcome = [phone.post("/voice/incoming", {"CallSid": f"CA{n:032d}", "From": "+447911123456"}) for n in range(2)]
    assert all(b"Restorative Justice" in w.data for w in welcome)

    # What a restart does to the app's connections: the server ends each one.
    admin = create_engine(database_url)
    with admin.begin() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    assert ended >= 1
    time.sleep(0.2)  # the server's goodbye reaches the sockets

    for n in range(2, 5):
        response = phone.post("/voice/incoming", {"CallSid": f"CA{n:032d}", "From": "+447911123456"})
        assert response.status_code == 200
        assert b"Restorative Justice" in response.data and b"gone wrong" not in response.data
    with admin.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Call.__table__)).scalar() == 5
    admin.dispose()


def test_an_insert_repeated_stores_one_row_and_a_missing_key_never_matches(session):
    from ivr.db.statements import insert_unless_duplicate
    from ivr.models import Callback

    def a_call(sid):
        return {"call_sid": sid, "from_number": "+447911123456", "started_at": datetime(2026, 11, 30, 9, tzinfo=timezone.utc)}

    first = insert_unless_duplicate(session, Call, a_call("CA1"))
    assert isinstance(first, int)
    assert insert_unless_duplicate(session, Call, a_call("CA1")) is None
    assert session.scalar(select(func.count()).select_from(Call)) == 1
    assert session.get(Call, first).status == "in-progress"  # the model's defaults apply

    by_staff = {"call_sid": None, "region": "cleveland", "phone_number": "+447911123456", "is_mobile": True,
                "window_start": datetime(2026, 11, 30, 9, tzinfo=timezone.utc),
                "window_end": datetime(2026, 11, 30, 12, tzinfo=timezone.utc), "voicemail_ok": False,
                "texts_ok": False, "number_source": "staff"}
    first_booking = insert_unless_duplicate(session, Callback, by_staff)
    a_day_later = {**by_staff, "window_start": datetime(2026, 12, 1, 9, tzinfo=timezone.utc)}
    assert None not in (first_booking, insert_unless_duplicate(session, Callback, a_day_later))
    # Another unique index decides too: one open callback per number and window.
    assert insert_unless_duplicate(session, Callback, by_staff) is None
