"""the Yandex account that created each room

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        # Only the organiser changes a room: whose token made it. NULL for rooms made before this
        # revision, whose organiser is not known (they are changed as before, and a refusal is never
        # taken for "closed").
        batch_op.add_column(sa.Column('room_organiser', sa.String(length=255), nullable=True))
    with op.batch_alter_table('yandex_accounts', schema=None) as batch_op:
        # When the stored pair was issued, to refresh it well before it dies (refresh tokens die with
        # their access tokens). NULL for pairs from before this revision: their connected_at counts.
        batch_op.add_column(sa.Column('token_issued_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('yandex_accounts', schema=None) as batch_op:
        batch_op.drop_column('token_issued_at')
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_column('room_organiser')
