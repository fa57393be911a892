"""every constraint named, CHECKs on statuses and kinds, indexes for the app's lookups

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 10:00:00

Upgrades a database in place; every row is kept.

- Names. 0001 and 0002 left primary keys, unique constraints and foreign keys unnamed, so
  PostgreSQL named them itself (calls_pkey, calls_call_sid_key, callbacks_assigned_to_id_fkey)
  and SQLite not at all. Each now gets the name `NAMING_CONVENTION` gives it (the convention of
  ivr.models when this was written), so later migrations can name what they change. (A database
  made from now on has these names from 0001 already: alembic names what a migration creates by
  the models' convention. Nothing is renamed then.)
- CHECKs. A status or kind outside its list is refused by the database: a callback whose status
  is misspelt would drop out of the staff queue unnoticed. The lists are written out below as
  they stand at this revision (ivr.models builds the same CHECKs from its enums; a new value is a
  new migration). A NULL passes a CHECK, so reminders.delivery_status and callback_events.outcome
  stay optional. Before anything changes, the upgrade looks for stored values outside the lists
  and, if it finds any, stops and names them.
- Indexes, for lookups the app makes by something no index covered:
    ix_callbacks_phone_number: a reply finds its sender's callback (replies.callback_replied_to);
        STOP and START find the number's open callbacks (reminders.open_callbacks_of).
    ix_reminders_to_number: a STOP cancels every pending reminder to the number.
    ix_audit_events_record (record_type, record_id): the audit trail of one record
        (staff.audit.events_for, and the administrators' audit page filtered by record).
  Every other lookup already has one: the unique CallSid, RecordingSid and MessageSid,
  ix_callbacks_status_window (the queue, overdue callbacks), ix_reminders_status_due (the clock),
  the callback_id indexes, ix_voicemails_status and the sign-in failures' indexes. The daily
  retention sweep's date ranges (calls.started_at, voicemails.created_at,
  inbound_texts.received_at) scan tables of a helpline's size once a day and get none.

PostgreSQL: each constraint is renamed (ALTER TABLE ... RENAME CONSTRAINT, which renames a unique
constraint's or primary key's index with it) from the name the catalogue holds, looked up here
rather than guessed; then the CHECKs are added (each checks the rows already stored) and the
indexes created.

SQLite cannot rename or add constraints, so each table is rebuilt (alembic's batch mode: a new
table with the named constraints and the CHECKs, the rows copied, the old table dropped, the new
one renamed, its indexes made again). Foreign keys must be off for this (SQLite's default, which
migrations/env.py keeps): with them on, dropping a table others point at would fail or delete
their rows. migrations/env.py runs the whole upgrade in one transaction, so a failure leaves the
database as it was.

The downgrade removes the CHECKs and the indexes; the names stay.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TABLES = ("calls", "closures", "switches", "opt_outs", "staff", "voicemails", "callbacks", "callback_events",
          "reminders", "inbound_texts", "sign_in_failures", "audit_events")

# table -> column -> the values it may hold (CHECK ck_<table>_<column>)
CHECKS = {
    "calls": {
        "status": ("queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"),
    },
    "voicemails": {
        "status": ("new", "listened", "actioned", "deleted"),
    },
    "callbacks": {
        "status": ("booked", "confirmed", "rearrange", "overdue", "completed", "cancelled"),
    },
    "callback_events": {
        "kind": ("booked", "overdue", "attempt", "note", "rescheduled", "completed", "cancelled", "assigned",
                 "text_reply", "texts_stopped", "texts_restarted", "text_unknown", "text_failed"),
        "outcome": ("spoke", "no_answer", "not_safe", "left_voicemail"),
    },
    "reminders": {
        "kind": ("day_before", "hour_before"),
        "status": ("pending", "claimed", "sending", "sent", "failed", "unknown", "cancelled", "missed"),
        "delivery_status": ("accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered",
                            "failed", "canceled", "read"),
    },
    "inbound_texts": {
        "command": ("yes", "change", "stop", "start", "help", "other"),
    },
    "staff": {
        "role": ("staff", "admin"),
    },
}

INDEXES = (
    ("ix_callbacks_phone_number", "callbacks", ["phone_number"]),
    ("ix_reminders_to_number", "reminders", ["to_number"]),
    ("ix_audit_events_record", "audit_events", ["record_type", "record_id"]),
)


def _one_of(column: str, values: tuple[str, ...]):
    return sa.column(column, sa.String).in_(values)


def upgrade() -> None:
    bind = op.get_bind()
    _stop_if_values_are_outside_the_checks(bind)
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_tables(bind)
    else:
        _rename_and_add_on_postgresql(bind)
    for name, table, columns in INDEXES:
        op.create_index(op.f(name), table, columns)


def _stop_if_values_are_outside_the_checks(bind) -> None:
    found = []
    for table, checks in CHECKS.items():
        for column, values in checks.items():
            stored = sa.column(column, sa.String)
            rows = bind.execute(sa.select(stored, sa.func.count()).select_from(sa.table(table, stored))
                                .where(stored.is_not(None), stored.not_in(values)).group_by(stored))
            found += [f"{table}.{column} = {value!r} in {count} row(s)" for value, count in rows]
    if found:
        raise RuntimeError("Nothing was changed: these stored values are not among those the new CHECK "
                           "constraints allow; correct them, then upgrade again:\n  " + "\n  ".join(found))


def _rebuild_sqlite_tables(bind) -> None:
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite's foreign keys must be off to rebuild tables (see migrations/env.py)")
    for table in TABLES:
        # The convention names whatever reflection finds unnamed (all of 0001's constraints).
        with op.batch_alter_table(table, recreate="always", naming_convention=NAMING_CONVENTION) as batch:
            for column, values in CHECKS.get(table, {}).items():
                batch.create_check_constraint(op.f(f"ck_{table}_{column}"), _one_of(column, values))
    dangling = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise RuntimeError(f"after rebuilding, {len(dangling)} row(s) point at rows that are not there: {dangling[:5]}")


def _rename_and_add_on_postgresql(bind) -> None:
    inspector = sa.inspect(bind)
    quote = bind.dialect.identifier_preparer.quote
    for table in TABLES:
        names = [(inspector.get_pk_constraint(table)["name"], f"pk_{table}")]
        names += [(unique["name"], f"uq_{table}_{unique['column_names'][0]}")
                  for unique in inspector.get_unique_constraints(table)]
        names += [(key["name"], f"fk_{table}_{key['constrained_columns'][0]}_{key['referred_table']}")
                  for key in inspector.get_foreign_keys(table)]
        for now_called, convention in names:
            if now_called != convention:
                op.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(now_called)} TO {quote(convention)}")
        for column, values in CHECKS.get(table, {}).items():
            op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, _one_of(column, values))


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(op.f(name), table_name=table)
    for table, checks in CHECKS.items():
        if op.get_bind().dialect.name == "sqlite":
            with op.batch_alter_table(table, recreate="always") as batch:
                for column in checks:
                    batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
        else:
            for column in checks:
                op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
