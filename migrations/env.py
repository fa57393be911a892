"""Alembic environment: runs our migrations against the URL `ivr.db.alembic_config` sets."""

from alembic import context
from sqlalchemy import Engine, create_engine, event, pool

from ivr.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A plain engine, not ivr.db.engine's: SQLite's foreign keys stay off, as rebuilding tables needs (0003).
    engine = create_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions_take_in_ddl(engine)
    with engine.connect() as connection:
        # One transaction for the whole upgrade, on SQLite as on PostgreSQL: a migration that fails
        # leaves the database as it was.
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def _sqlite_transactions_take_in_ddl(engine: Engine) -> None:
    """Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE, so a CREATE or DROP
    TABLE before the first of those would commit on its own. The driver is told to open none, and
    each transaction starts with our own BEGIN (SQLAlchemy's recipe for pysqlite)."""

    @event.listens_for(engine, "connect")
    def _driver_opens_no_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
