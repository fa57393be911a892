"""contact only as the victim chose: where a number came from, held texts, one booking per window

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:00:00

Upgrades a database in place.

- callbacks.number_source: "caller" (the line they rang from), "keyed" (keyed in during the
  call) or "staff" (given to an officer). Only a caller's own line is texted without an officer
  deciding so. Rows stored before are read as: made by an officer -> "staff"; booked by phone
  from the number it calls -> "caller"; otherwise "keyed".
- callbacks.texts_held: why no text may go until an officer decides again ("not_safe",
  "reply"); NULL when texts may go.
- switches.until: when the emergency "closed now" goes off by itself; NULL until switched off.
- reminders.status may be "held"; callback_events.kind gains texts_held, texts_resumed,
  texts_allowed and reply_read.
- One open callback per number and window (uq_callbacks_open_number_window, a partial unique
  index over the open statuses). Callbacks already stored twice for one number and window while
  open are resolved first: the earliest is kept; each later one is cancelled, with a line in its
  history saying which one it repeated, and its texts still to go are cancelled.
- At most one text of each kind on its way to a number for one window
  (uq_reminders_one_on_its_way, over pending, claimed, sending and held). Any such duplicates
  left are cancelled, the earliest kept.
- ix_reminders_to_number becomes ix_reminders_to_number_status: a STOP cancels the number's texts
  not yet gone, and SQLite, given only the number, would as soon walk the status index instead.

SQLite rebuilds the tables whose CHECKs change (batch mode, foreign keys off, one transaction: see
0003). The downgrade removes all of it (the cancelled duplicates stay cancelled).
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


OPEN = ("booked", "confirmed", "rearrange", "overdue")
ON_ITS_WAY = ("pending", "claimed", "sending", "held")
CHECKS = {
    # table -> column -> the values allowed before, and from now on
    "callbacks": {
        "number_source": (None, ("caller", "keyed", "staff")),
        "texts_held": (None, ("not_safe", "reply")),
    },
    "reminders": {
        "status": (("pending", "claimed", "sending", "sent", "failed", "unknown", "cancelled", "missed"),
                   ("pending", "claimed", "sending", "sent", "failed", "unknown", "cancelled", "missed", "held")),
    },
    "callback_events": {
        "kind": (("booked", "overdue", "attempt", "note", "rescheduled", "completed", "cancelled", "assigned",
                  "text_reply", "texts_stopped", "texts_restarted", "text_unknown", "text_failed"),
                 ("booked", "overdue", "attempt", "note", "rescheduled", "completed", "cancelled", "assigned",
                  "text_reply", "texts_stopped", "texts_restarted", "text_unknown", "text_failed",
                  "texts_held", "texts_resumed", "texts_allowed", "reply_read")),
    },
}


def _one_of(column: str, values: tuple[str, ...]):
    return sa.column(column, sa.String).in_(values)


def _set_checks(which: int) -> None:
    """Make each CHECK allow the values of `which` (0: before, 1: after)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, checks in CHECKS.items():
        changes = [(f"ck_{table}_{column}", values[1 - which], values[which]) for column, values in checks.items()]
        if sqlite:
            with op.batch_alter_table(table, recreate="always") as batch:
                for name, old, new in changes:
                    if old is not None:
                        batch.drop_constraint(op.f(name), type_="check")
                    if new is not None:
                        batch.create_check_constraint(op.f(name), _one_of(name.removeprefix(f"ck_{table}_"), new))
        else:
            for name, old, new in changes:
                if old is not None:
                    op.drop_constraint(op.f(name), table, type_="check")
                if new is not None:
                    op.create_check_constraint(op.f(name), table, _one_of(name.removeprefix(f"ck_{table}_"), new))


def upgrade() -> None:
    op.add_column("callbacks", sa.Column("number_source", sa.String(16), nullable=False, server_default="caller"))
    op.add_column("callbacks", sa.Column("texts_held", sa.String(16), nullable=True))
    op.add_column("switches", sa.Column("until", sa.DateTime(), nullable=True))
    op.execute("UPDATE callbacks SET number_source = 'staff' WHERE created_by_id IS NOT NULL")
    op.execute("UPDATE callbacks SET number_source = 'keyed' WHERE created_by_id IS NULL AND NOT EXISTS "
               "(SELECT 1 FROM calls WHERE calls.call_sid = callbacks.call_sid "
               "AND calls.from_number = callbacks.phone_number)")
    _set_checks(1)
    with op.batch_alter_table("callbacks") as batch:
        batch.alter_column("number_source", server_default=None)
    _cancel_repeated_bookings()
    op.create_index(op.f("uq_callbacks_open_number_window"), "callbacks", ["phone_number", "window_start"], unique=True,
                    sqlite_where=_one_of("status", OPEN), postgresql_where=_one_of("status", OPEN))
    op.drop_index("ix_reminders_to_number", table_name="reminders")
    op.create_index(op.f("ix_reminders_to_number_status"), "reminders", ["to_number", "status"])
    op.create_index(op.f("uq_reminders_one_on_its_way"), "reminders", ["to_number", "kind", "useful_until"], unique=True,
                    sqlite_where=_one_of("status", ON_ITS_WAY), postgresql_where=_one_of("status", ON_ITS_WAY))


def _cancel_repeated_bookings() -> None:
    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    callbacks = sa.table("callbacks", sa.column("id"), sa.column("phone_number"), sa.column("window_start"),
                         sa.column("status"), sa.column("updated_at"))
    earlier = callbacks.alias("earlier")
    first = (sa.select(sa.func.min(earlier.c.id))
             .where(earlier.c.phone_number == callbacks.c.phone_number,
                    earlier.c.window_start == callbacks.c.window_start, earlier.c.status.in_(OPEN))
             .scalar_subquery())
    repeats = bind.execute(sa.select(callbacks.c.id, first).where(callbacks.c.status.in_(OPEN), callbacks.c.id > first))
    events = sa.table("callback_events", sa.column("callback_id"), sa.column("at"), sa.column("kind"),
                      sa.column("detail"))
    reminders = sa.table("reminders", sa.column("id"), sa.column("callback_id"), sa.column("to_number"),
                         sa.column("kind"), sa.column("useful_until"), sa.column("status"), sa.column("updated_at"))
    for repeat, kept in repeats.all():
        bind.execute(callbacks.update().where(callbacks.c.id == repeat).values(status="cancelled", updated_at=now))
        bind.execute(events.insert().values(
            callback_id=repeat, at=now, kind="cancelled",
            detail=f"A second booking for the same number and window as callback {kept}, which is kept."))
        bind.execute(reminders.update().where(reminders.c.callback_id == repeat,
                                              reminders.c.status.in_(("pending", "claimed")))
                     .values(status="cancelled", updated_at=now))
    other = reminders.alias("other")
    duplicate = (sa.select(other.c.id).where(
        other.c.to_number == reminders.c.to_number, other.c.kind == reminders.c.kind,
        other.c.useful_until == reminders.c.useful_until, other.c.status.in_(ON_ITS_WAY),
        other.c.id < reminders.c.id).exists())
    bind.execute(reminders.update().where(reminders.c.status.in_(("pending", "claimed", "held")), duplicate)
                 .values(status="cancelled", updated_at=now))


def downgrade() -> None:
    op.drop_index("uq_reminders_one_on_its_way", table_name="reminders")
    op.drop_index("ix_reminders_to_number_status", table_name="reminders")
    op.create_index(op.f("ix_reminders_to_number"), "reminders", ["to_number"])
    op.drop_index("uq_callbacks_open_number_window", table_name="callbacks")
    op.execute("UPDATE reminders SET status = 'cancelled' WHERE status = 'held'")
    op.execute("UPDATE callback_events SET kind = 'note' WHERE kind IN "
               "('texts_held', 'texts_resumed', 'texts_allowed', 'reply_read')")
    _set_checks(0)
    with op.batch_alter_table("switches") as batch:
        batch.drop_column("until")
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("texts_held")
        batch.drop_column("number_source")
