"""the queue by team at real volume: an index on callbacks (region, status, window_start)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:05:00

An officer's usual queue is one team's open callbacks in the order of their windows, a page at a
time, with the count of all of them. ix_callbacks_status_window alone makes the database read
every open callback of every team to find one team's; this index reads only that team's.
(tests/bench/staff_queue.py measures the queue with 10,000 open callbacks.) Adds an index; the
downgrade drops it.
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_callbacks_region_status_window', 'callbacks', ['region', 'status', 'window_start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_callbacks_region_status_window', table_name='callbacks')
