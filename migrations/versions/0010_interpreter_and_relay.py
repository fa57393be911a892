"""reach: a callback may need an interpreter, or be made through Relay UK

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:10:00

- callbacks.interpreter_language: the language a caller who chose "another language" speaks (an
  identifier from the prompts file's [languages], e.g. "pl"); NULL when no interpreter is needed.
- callbacks.via_relay: an officer marked the callback "call via Relay UK (18002)"; false for every
  row stored before.

Adds two columns; the downgrade drops them.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('callbacks') as batch:
        batch.add_column(sa.Column('interpreter_language', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('via_relay', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('callbacks') as batch:
        batch.drop_column('via_relay')
        batch.drop_column('interpreter_language')
