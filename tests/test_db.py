"""The schema is created by migrations, safely twice, and SQLite runs in WAL mode."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, text

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
