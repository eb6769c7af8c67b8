"""install generation of portals, error codes of steps

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('portals', schema=None) as batch_op:
        # App tokens carry the install they were issued under: one from before an uninstall is refused
        # after a reinstall. Rows made before this revision are in their first install.
        batch_op.add_column(sa.Column('install_generation', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('conference_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conference_steps', schema=None) as batch_op:
        batch_op.drop_column('error_code')
    with op.batch_alter_table('portals', schema=None) as batch_op:
        batch_op.drop_column('install_generation')
