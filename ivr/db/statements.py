"""Inserts that happen once, however often Twilio retries the webhook that asks for them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# The databases we run on, each with its INSERT ... ON CONFLICT.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_unless_duplicate(session: Session, model: type, values: dict[str, Any]) -> int | None:
    """Insert a row of `model` and return its id; when a unique constraint or index of the table
    already holds such a row, insert nothing and return None (the caller finds the one stored).

    The database decides, so two copies of one request racing each other store one row. NULLs
    never match one another. The columns' defaults apply to those `values` leaves out.
    """
    statement = _insert_unless_duplicate(session.get_bind().dialect.name, model.__table__)
    return session.execute(statement, values).scalar()


@cache
def _insert_unless_duplicate(dialect: str, table: Table) -> Insert:
    # Built once for each table: the calls that write on every step share it.
    return _INSERTS[dialect](table).on_conflict_do_nothing().returning(table.c.id)
