"""the callback placed by the service: officers' work numbers, and every call attempt

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 16:00:00

- staff.work_number: the officer's own phone, rung first when they press "Call now"; NULL until
  they (or an administrator) give it.
- call_attempts: one row per call the service places for a callback: who placed it, to which
  number, when, Twilio's CallSids for the officer's leg and the victim's (each unique, so a
  retried webhook finds the row it already changed), and the result once known (a CHECK lists
  them). ended_at is NULL while the call is in progress, and two partial unique indexes allow one
  such row per callback and one per number: two clicks, two web workers or two officers can never
  ring one victim twice at once.

Adds a column and a table; nothing existing is rebuilt. The downgrade drops both.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


RESULTS = ("agreed", "not_good_time", "no_answer", "busy", "voicemail_left", "machine", "failed", "officer_missed")
LIVE = sa.column("ended_at", sa.DateTime).is_(None)


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("work_number", sa.String(32), nullable=True))
    op.create_table(
        "call_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("officer_number", sa.String(32), nullable=False),
        sa.Column("outside_window", sa.Boolean(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("officer_call_sid", sa.String(64), nullable=True),
        sa.Column("victim_call_sid", sa.String(64), nullable=True),
        sa.Column("victim_rung_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("result_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(sa.column("result", sa.String).in_(RESULTS), name=op.f("ck_call_attempts_result")),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], name=op.f("fk_call_attempts_callback_id_callbacks")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_call_attempts_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempts")),
        sa.UniqueConstraint("officer_call_sid", name=op.f("uq_call_attempts_officer_call_sid")),
        sa.UniqueConstraint("victim_call_sid", name=op.f("uq_call_attempts_victim_call_sid")),
    )
    op.create_index(op.f("ix_call_attempts_callback_id"), "call_attempts", ["callback_id"])
    op.create_index(op.f("uq_call_attempts_live_callback"), "call_attempts", ["callback_id"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index(op.f("uq_call_attempts_live_number"), "call_attempts", ["to_number"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade() -> None:
    op.drop_table("call_attempts")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("work_number")
