"""Inserts that happen once, however often Twilio retries the webhook that asks for them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# The databases we run on, each with its INSERT ... ON CONFLICT.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_unless_duplicate(session: Session, model: type, values: dict[str, Any], unique_column: str) -> int | None:
    """Insert a row of `model` and return its id; when a row with the same `unique_column` is
    already stored, insert nothing and return None.

    The unique constraint decides, so two copies of one request racing each other store one row.
    A NULL in `unique_column` never matches, so such a row is always inserted.
    """
    insert = _INSERTS[session.get_bind().dialect.name]
    statement = (insert(model).values(values)
                 .on_conflict_do_nothing(index_elements=[unique_column])
                 .returning(model.id))
    return session.scalar(statement)
