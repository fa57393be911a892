"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 13:26:01.342827
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=True),
    sa.Column('region', sa.String(length=32), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('keyed_number', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid')
    )
    op.create_table('closures',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('opt_outs',
    sa.Column('phone_number', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('phone_number')
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('switches',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('on', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('voicemails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('from_number', sa.String(length=32), nullable=True),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('recording_sid', sa.String(length=64), nullable=False),
    sa.Column('recording_url', sa.String(length=500), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('listened_at', sa.DateTime(), nullable=True),
    sa.Column('recording_deleted_at', sa.DateTime(), nullable=True),
    sa.Column('anonymised_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recording_sid')
    )
    with op.batch_alter_table('voicemails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voicemails_call_sid'), ['call_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_voicemails_status'), ['status'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('phone_number', sa.String(length=32), nullable=False),
    sa.Column('is_mobile', sa.Boolean(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('window_end', sa.DateTime(), nullable=False),
    sa.Column('voicemail_ok', sa.Boolean(), nullable=False),
    sa.Column('texts_ok', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('anonymised_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid')
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_callbacks_status_window', ['status', 'window_start'], unique=False)

    op.create_table('callback_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('callback_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_events_callback_id'), ['callback_id'], unique=False)

    op.create_table('inbound_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('command', sa.String(length=16), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('anonymised_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_sid')
    )
    with op.batch_alter_table('inbound_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_texts_callback_id'), ['callback_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_texts_from_number'), ['from_number'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('useful_until', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('body', sa.String(length=320), nullable=True),
    sa.Column('message_sid', sa.String(length=64), nullable=True),
    sa.Column('simulated', sa.Boolean(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('delivery_status', sa.String(length=16), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_sid')
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_callback_id'), ['callback_id'], unique=False)
        batch_op.create_index('ix_reminders_status_due', ['status', 'due_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_status_due')
        batch_op.drop_index(batch_op.f('ix_reminders_callback_id'))

    op.drop_table('reminders')
    with op.batch_alter_table('inbound_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_texts_from_number'))
        batch_op.drop_index(batch_op.f('ix_inbound_texts_callback_id'))

    op.drop_table('inbound_texts')
    with op.batch_alter_table('callback_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_events_callback_id'))

    op.drop_table('callback_events')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_callbacks_status_window')

    op.drop_table('callbacks')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
    with op.batch_alter_table('voicemails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voicemails_status'))
        batch_op.drop_index(batch_op.f('ix_voicemails_call_sid'))

    op.drop_table('voicemails')
    op.drop_table('switches')
    op.drop_table('staff')
    op.drop_table('opt_outs')
    op.drop_table('closures')
    op.drop_table('calls')

