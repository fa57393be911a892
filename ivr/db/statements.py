"""Inserts that happen once, however often Twilio retries the webhook that asks for them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# The databases we run on, each with its INSERT ... ON CONFLICT.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_unless_duplicate(session: Session, model: type, values: dict[str, Any], unique_column: str) -> int | None:
    """Insert a row of `model` and return its id; when a row with the same `unique_column` is
    already stored, insert nothing and return None.

    The unique constraint decides, so two copies of one request racing each other store one row.
    A NULL in `unique_column` never matches, so such a row is always inserted. The columns'
    defaults apply to those `values` leaves out.
    """
    statement = _insert_unless_duplicate(session.get_bind().dialect.name, model.__table__, unique_column)
    return session.execute(statement, values).scalar()


@cache
def _insert_unless_duplicate(dialect: str, table: Table, unique_column: str) -> Insert:
    # Built once for each table: the calls that write on every step share it.
    return _INSERTS[dialect](table).on_conflict_do_nothing(index_elements=[unique_column]).returning(table.c.id)
