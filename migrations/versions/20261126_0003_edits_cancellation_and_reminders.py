"""edits, cancellation and reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:10:54.761244
"""
from alembic import op
import sqlalchemy as sa
import shared.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('cancel_requested', sa.Boolean(), nullable=False, server_default=sa.false()))
        # Rows made before this revision: nothing recorded as applied, so a first edit re-sends all of it
        # (cohosts are added again, invitations replaced by TAG): harmless.
        batch_op.add_column(sa.Column('applied', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('reminded_at', shared.models.UTCDateTime(), nullable=True))

def downgrade() -> None:
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('applied')
        batch_op.drop_column('cancel_requested')
        batch_op.drop_column('version')

