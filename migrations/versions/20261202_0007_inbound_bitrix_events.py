"""Bitrix24 events stored before they are answered

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Bitrix24 sends an event once ("No retries"): it is stored before it is answered, until processed.
    op.create_table(
        'inbound_bitrix_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('portal', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('ts', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('taken_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    waiting = sa.text('taken_at IS NULL')
    op.create_index('ix_inbound_events_waiting', 'inbound_bitrix_events', ['portal', 'subject'], unique=True,
                    sqlite_where=waiting, postgresql_where=waiting)
    op.create_index('ix_inbound_events_due', 'inbound_bitrix_events', ['taken_at', 'sent_at'])
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        # The reconciliation of linked calendar events reads the longest unread first.
        batch_op.add_column(sa.Column('calendar_checked_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_column('calendar_checked_at')
    op.drop_index('ix_inbound_events_due', table_name='inbound_bitrix_events')
    op.drop_index('ix_inbound_events_waiting', table_name='inbound_bitrix_events')
    op.drop_table('inbound_bitrix_events')
