"""The schema is created by migrations, safely twice, SQLite runs in WAL mode, and connections and
writes on the driver behave as SQLAlchemy's own."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, inspect, select, text

from ivr.db import make_engine
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


# --- statements run on the driver (db.run_on_driver) ----------------------------------------------

NOTED = ("call_sid", "from_number", "started_at", "status")
SUMMER_EVENING = datetime(2026, 7, 1, 18, 30, tzinfo=ZoneInfo("Europe/London"))  # 17:30 UTC


def a_call(sid: str, **changes) -> dict:
    return {"call_sid": sid, "from_number": "+447911123456", "started_at": SUMMER_EVENING, "status": "in-progress",
            **changes}


def stored_calls(app) -> list[tuple]:
    """The calls as the database holds them, not as the models' types read them back."""
    with app.extensions["db.engine"].connect() as connection:
        return [tuple(row) for row in connection.execute(
            text("SELECT call_sid, from_number, started_at, status FROM calls ORDER BY id"))]


def test_a_row_written_on_the_driver_is_stored_exactly_as_sqlalchemy_stores_it(app, session):
    """Times are converted the same way (UTC, SQLite's text form), so they compare and sort alike."""
    from ivr.db import insert_unless_duplicate, run_on_driver, standalone_write
    from ivr.models import Call

    with standalone_write(app) as connection:
        statement = insert_unless_duplicate(connection, Call, "call_sid", NOTED)
        on_driver = run_on_driver(connection, statement, a_call("CA1"))
        by_sqlalchemy = connection.scalar(statement, a_call("CA2"))
        repeat = run_on_driver(connection, statement, a_call("CA1"))
    assert isinstance(on_driver, int) and on_driver != by_sqlalchemy and repeat is None
    first, second = stored_calls(app)
    assert first[1:] == second[1:]
    call = session.scalar(select(Call).where(Call.call_sid == "CA1"))
    assert call.started_at == datetime(2026, 7, 1, 17, 30, tzinfo=timezone.utc)


def test_a_write_on_the_driver_is_kept_only_when_its_transaction_commits(app):
    from ivr.db import insert_unless_duplicate, run_on_driver

    engine = app.extensions["db.engine"]
    with engine.connect() as connection:
        run_on_driver(connection, insert_unless_duplicate(connection, Call, "call_sid", NOTED), a_call("CA1"))
        connection.commit()
    with engine.connect() as connection:
        run_on_driver(connection, insert_unless_duplicate(connection, Call, "call_sid", NOTED), a_call("CA2"))
    assert [row[0] for row in stored_calls(app)] == ["CA1"]


def test_an_error_on_the_driver_is_sqlalchemys_with_the_values_hidden_and_nothing_is_stored(app):
    from sqlalchemy.exc import IntegrityError

    from ivr.db import insert_unless_duplicate, run_on_driver, standalone_write

    with pytest.raises(IntegrityError) as raised, standalone_write(app) as connection:
        run_on_driver(connection, insert_unless_duplicate(connection, Call, "call_sid", NOTED),
                      a_call("CA1", status=None))
    assert "parameters hidden" in str(raised.value)
    assert stored_calls(app) == []


def test_a_column_left_to_its_default_gets_it_on_the_driver_unless_it_is_computed(app, session):
    """A fixed default is written in as SQLAlchemy would; one computed as the statement runs (the
    time now) is refused rather than stored as NULL."""
    from sqlalchemy import bindparam

    from ivr.db import run_on_driver, standalone_write

    with standalone_write(app) as connection:
        run_on_driver(connection, insert(Call).values({name: bindparam(name) for name in NOTED[:3]}), a_call("CA1"))
        with pytest.raises(ValueError, match="started_at"):
            run_on_driver(connection, insert(Call).values(call_sid=bindparam("call_sid")), {"call_sid": "CA2"})
    assert session.scalar(select(Call.status).where(Call.call_sid == "CA1")) == "in-progress"
    assert [row[0] for row in stored_calls(app)] == ["CA1"]


def test_the_driver_asks_for_every_value_the_statement_takes(app):
    from sqlalchemy import bindparam

    from ivr.db import run_on_driver, standalone_write

    with standalone_write(app) as connection:
        with pytest.raises(TypeError, match="from_number"):
            run_on_driver(connection, insert(Call).values({name: bindparam(name) for name in NOTED}),
                          {"call_sid": "CA1", "started_at": SUMMER_EVENING, "status": "in-progress"})
    assert stored_calls(app) == []


@pytest.mark.skipif(not on_postgres(), reason="needs a PostgreSQL server (IVR_TEST_ON_POSTGRES=1)")
def test_a_connection_the_database_drops_under_a_driver_write_is_replaced(app, database_url):
    import time

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from ivr.db import insert_unless_duplicate, run_on_driver, standalone_write

    admin = create_engine(database_url)
    with standalone_write(app) as connection:
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.begin() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        time.sleep(0.2)
        with pytest.raises(OperationalError) as raised:
            run_on_driver(connection, insert_unless_duplicate(connection, Call, "call_sid", NOTED), a_call("CA1"))
        assert raised.value.connection_invalidated and connection.invalidated
    admin.dispose()
    with standalone_write(app) as connection:
        run_on_driver(connection, insert_unless_duplicate(connection, Call, "call_sid", NOTED), a_call("CA2"))
    assert [row[0] for row in stored_calls(app)] == ["CA2"]
