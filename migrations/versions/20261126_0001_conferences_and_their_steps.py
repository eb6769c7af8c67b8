"""conferences and their steps

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 14:21:17.662900
"""
from alembic import op
import sqlalchemy as sa
import shared.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('portal', sa.String(length=255), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('owner_name', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('start_at', shared.models.UTCDateTime(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('waiting_room_level', sa.String(length=16), nullable=False),
    sa.Column('live_stream', sa.JSON(), nullable=True),
    sa.Column('cohosts', sa.JSON(), nullable=False),
    sa.Column('invitees', sa.JSON(), nullable=False),
    sa.Column('create_calendar_event', sa.Boolean(), nullable=False),
    sa.Column('invite_users', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('join_url', sa.String(length=512), nullable=True),
    sa.Column('watch_url', sa.String(length=512), nullable=True),
    sa.Column('telemost_id', sa.String(length=64), nullable=True),
    sa.Column('calendar_event_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('enqueued_at', shared.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', shared.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shared.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('portal', 'owner_id', 'idempotency_key', name='uq_conferences_idempotency'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.create_index('ix_conferences_enqueued', ['status', 'enqueued_at'], unique=False)
        batch_op.create_index('ix_conferences_owner_created', ['portal', 'owner_id', 'created_at'], unique=False)

    op.create_table('conference_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('attempts_at_retry', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', shared.models.UTCDateTime(), nullable=True),
    sa.Column('started_at', shared.models.UTCDateTime(), nullable=True),
    sa.Column('updated_at', shared.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conference_id', 'name', name='uq_steps_conference_name')
    )
    with op.batch_alter_table('conference_steps', schema=None) as batch_op:
        batch_op.create_index('ix_steps_due', ['state', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('conference_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_steps_due')

    op.drop_table('conference_steps')
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_index('ix_conferences_owner_created')
        batch_op.drop_index('ix_conferences_enqueued')

    op.drop_table('conferences')
