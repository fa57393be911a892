"""officers' texts go through the outbox; the call steps the service's figures count

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 16:00:00

- reminders.kind may be "staff": a reply an officer wrote, sent by the clock like a reminder (the
  same quiet hours, STOP, holds and sending rate). reminders.callback_id may be NULL for a reply to
  a text that matches no callback. reminders.staff_id says who wrote it; reminders.request_key
  (unique) is the key the officer's form carried, so the same form sent twice is one text.
- uq_reminders_one_on_its_way covers the two reminder kinds only: officers' texts are told
  apart by their request_key.
- call_steps: the choices a caller made and whether a team answered, which the Figures page
  counts. Calls before this revision have none.

SQLite rebuilds the reminders table (batch mode, foreign keys off, one transaction: see 0003).
The downgrade removes all of it; officers' texts are deleted with it.
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


ON_ITS_WAY = ("pending", "claimed", "sending", "held")
REMINDER_KINDS = ("day_before", "hour_before")
KINDS = {0: REMINDER_KINDS, 1: (*REMINDER_KINDS, "staff")}
CHOICES = ("rj_info", "referral_info", "team", "callback", "message", "put_through", "answered", "not_answered")


def _one_of(column: str, values: tuple[str, ...]):
    return sa.column(column, sa.String).in_(values)


def _one_on_its_way(only_reminders: bool) -> None:
    where = _one_of("status", ON_ITS_WAY)
    if only_reminders:
        where = sa.and_(where, _one_of("kind", REMINDER_KINDS))
    op.create_index(op.f("uq_reminders_one_on_its_way"), "reminders", ["to_number", "kind", "useful_until"],
                    unique=True, sqlite_where=where, postgresql_where=where)


def _rebuild_reminders(which: int) -> None:
    """Reminders as of `which` (0: before, 1: after): the kinds allowed, callback_id's NULLs, the new columns."""
    with op.batch_alter_table("reminders", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_reminders_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_reminders_kind"), _one_of("kind", KINDS[which]))
        batch.alter_column("callback_id", existing_type=sa.Integer(), nullable=bool(which))
        if which:
            batch.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("request_key", sa.String(64), nullable=True))
            batch.create_foreign_key(op.f("fk_reminders_staff_id_staff"), "staff", ["staff_id"], ["id"])
            batch.create_unique_constraint(op.f("uq_reminders_request_key"), ["request_key"])
        else:
            batch.drop_constraint(op.f("uq_reminders_request_key"), type_="unique")
            batch.drop_constraint(op.f("fk_reminders_staff_id_staff"), type_="foreignkey")
            batch.drop_column("request_key")
            batch.drop_column("staff_id")


def upgrade() -> None:
    op.drop_index("uq_reminders_one_on_its_way", table_name="reminders")
    _rebuild_reminders(1)
    _one_on_its_way(only_reminders=True)
    op.create_table(
        "call_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("choice", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_one_of("choice", CHOICES), name=op.f("ck_call_steps_choice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_steps")),
    )
    op.create_index(op.f("ix_call_steps_call_sid"), "call_steps", ["call_sid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_call_steps_call_sid"), table_name="call_steps")
    op.drop_table("call_steps")
    op.drop_index("uq_reminders_one_on_its_way", table_name="reminders")
    op.execute("DELETE FROM reminders WHERE kind = 'staff'")
    _rebuild_reminders(0)
    _one_on_its_way(only_reminders=False)
