"""The schema is created by migrations, safely twice, and SQLite runs in WAL mode."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, inspect, select, text

from ivr.db import make_engine
from ivr.models import Base, Closure
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


class SlowConnection:
    closed = False

    def close(self):
        self.closed = True


def test_a_connection_that_does_not_arrive_in_time_is_given_up_and_closed_when_it_comes():
    import threading

    from sqlalchemy.exc import OperationalError

    from ivr.db import connect_within

    release, late = threading.Event(), SlowConnection()

    def hanging_connect():
        release.wait(5)
        return late

    with pytest.raises(OperationalError, match="did not answer"):
        connect_within(0.05, hanging_connect)
    release.set()
    for _ in range(100):
        if late.closed:
            break
        threading.Event().wait(0.01)
    assert late.closed


def test_a_connection_in_time_is_used_and_a_refusal_is_raised_as_it_was():
    from ivr.db import connect_within

    ready = SlowConnection()
    assert connect_within(1, lambda: ready) is ready and not ready.closed
    with pytest.raises(ConnectionRefusedError):
        connect_within(1, lambda: (_ for _ in ()).throw(ConnectionRefusedError()))


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
@pytest.mark.parametrize("idle_for_long", [False, True], ids=["just used", "idle"])
def test_after_a_database_restart_the_next_caller_is_answered_as_usual(app, database_url, monkeypatch, idle_for_long):
    """Every pooled connection dies in a restart; the next request must get a live one, not an error."""
    import time

    from sqlalchemy import create_engine

    from ivr import db
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
    if idle_for_long:
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0)

    for n in range(2, 5):
        response = phone.post("/voice/incoming", {"CallSid": f"CA{n:032d}", "From": "+447911123456"})
        assert response.status_code == 200
        assert b"Restorative Justice" in response.data and b"gone wrong" not in response.data
    with admin.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Call.__table__)).scalar() == 5
    admin.dispose()


HOLD_THE_TURN = """
import fcntl, sys
lock_file = open(sys.argv[1], "ab")
fcntl.flock(lock_file, fcntl.LOCK_EX)
print("holding", flush=True)
sys.stdin.readline()
"""


@pytest.mark.skipif(on_postgres(), reason="SQLite only")
def test_on_sqlite_a_write_waits_while_another_process_writes_and_goes_the_moment_it_ends(app, database_url):
    import subprocess
    import sys
    import threading

    from sqlalchemy.engine import make_url

    from ivr.db import session_scope, standalone_write, writer_turns
    from ivr.models import OptOut

    lock_path = writer_turns(make_url(database_url).database).path
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_TURN, lock_path], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "holding"
        stored = threading.Event()

        def say_stop():
            with standalone_write(app) as connection:
                connection.execute(insert(OptOut), {"phone_number": "+447911123456",
                                                    "opted_out_at": datetime(2026, 11, 24, tzinfo=timezone.utc)})
            stored.set()

        writer = threading.Thread(target=say_stop)
        writer.start()
        assert not stored.wait(0.5), "wrote while another process had its turn"
        other.stdin.write("done\n")
        other.stdin.flush()
        assert stored.wait(5), "still waiting after the other process gave its turn up"
        writer.join()
    finally:
        other.kill()
        other.wait()
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(OptOut)) == 1
