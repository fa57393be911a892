"""voicemails are work items: their history (notes, and the callbacks booked from them)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:50:00

voicemail_events: one line of a voicemail's history, an officer's note ("note") or a callback
booked from the message ("callback_booked", with callback_id). Who viewed, played or marked a
message stays in the audit trail. The downgrade drops the table (and the notes in it).
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voicemail_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voicemail_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('note', 'callback_booked')", name=op.f('ck_voicemail_events_kind')),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_voicemail_events_callback_id_callbacks')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_voicemail_events_staff_id_staff')),
    sa.ForeignKeyConstraint(['voicemail_id'], ['voicemails.id'], name=op.f('fk_voicemail_events_voicemail_id_voicemails')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voicemail_events'))
    )
    op.create_index(op.f('ix_voicemail_events_voicemail_id'), 'voicemail_events', ['voicemail_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_voicemail_events_voicemail_id'), table_name='voicemail_events')
    op.drop_table('voicemail_events')
