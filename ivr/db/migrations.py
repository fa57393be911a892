"""The schema: created and upgraded by the Alembic migrations in `migrations/`."""

from __future__ import annotations

from ivr.config import PROJECT_DIR


def alembic_config(url: str):
    """Alembic's configuration pointing at our migrations and the given database."""
    # Imported here: web workers and the clock never migrate, and need not load alembic.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Create or upgrade the schema to the newest migration; safe to run again."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
