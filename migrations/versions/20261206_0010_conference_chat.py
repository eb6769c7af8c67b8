"""the chat a conference is posted to

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conferences') as batch:
        batch.add_column(sa.Column('chat', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conferences') as batch:
        batch.drop_column('chat')
