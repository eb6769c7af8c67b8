"""a log of REST requests to portals and their answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Bitrix24 Market asks for 3 days of REST requests and responses (market/preparing-to-publish/
    # common-requirements.md); beat's retention removes older rows.
    op.create_table(
        'bitrix_rest_calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('method', sa.String(length=100), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('milliseconds', sa.Integer(), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bitrix_rest_calls_at', 'bitrix_rest_calls', ['at'])


def downgrade() -> None:
    op.drop_index('ix_bitrix_rest_calls_at', table_name='bitrix_rest_calls')
    op.drop_table('bitrix_rest_calls')
