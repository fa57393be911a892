"""the audit trail is append-only in the database, not only in the ORM

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 10:00:00

ivr.models refuses to update or delete an AuditEvent, but only for code that goes through the
ORM: a raw UPDATE, a psql session or a bug in a later migration could still rewrite who looked at
a victim's record. Now the database refuses too, with a trigger on each kind of database:

- PostgreSQL: `audit_events_append_only`, BEFORE UPDATE OR DELETE, FOR EACH ROW, raises
  "audit events are append-only". (TRUNCATE, which only the table's owner may run, is left to
  the owner: the test suite empties its database with it.)
- SQLite: `audit_events_no_update` and `audit_events_no_delete`, each RAISE(ABORT, ...).
  SQLite drops a table's triggers with it, so a later migration that rebuilds audit_events in
  batch mode must create them again (`create_triggers` below).

The downgrade drops the triggers.
"""

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MESSAGE = "audit events are append-only"

POSTGRESQL = (
    f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
        END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
)
SQLITE = tuple(
    f"""CREATE TRIGGER audit_events_no_{change} BEFORE {change.upper()} ON audit_events
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for change in ("update", "delete"))
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_events_no_update", "DROP TRIGGER IF EXISTS audit_events_no_delete")


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    create_triggers()


def downgrade() -> None:
    for statement in POSTGRESQL_DROP if op.get_bind().dialect.name == "postgresql" else SQLITE_DROP:
        op.execute(statement)
