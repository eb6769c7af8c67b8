"""the CRM record a conference is linked to, and the automation rule that asked for it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conferences') as batch:
        batch.add_column(sa.Column('crm', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('robot', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conferences') as batch:
        batch.drop_column('robot')
        batch.drop_column('crm')
