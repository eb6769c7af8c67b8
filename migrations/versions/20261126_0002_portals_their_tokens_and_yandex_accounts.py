"""portals, their tokens and Yandex accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:54:28.322984
"""
from alembic import op
import sqlalchemy as sa
import shared.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.String(length=64), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('client_endpoint', sa.String(length=512), nullable=False),
    sa.Column('application_token_digest', sa.String(length=64), nullable=True),
    sa.Column('scope', sa.String(length=512), nullable=True),
    sa.Column('installed', sa.Boolean(), nullable=False),
    sa.Column('last_event_ts', sa.Integer(), nullable=False),
    sa.Column('last_event', sa.String(length=32), nullable=True),
    sa.Column('installed_at', shared.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shared.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id')
    )
    op.create_table('yandex_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portal', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('expires_at', shared.models.UTCDateTime(), nullable=True),
    sa.Column('usable', sa.Boolean(), nullable=False),
    sa.Column('connected_at', shared.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shared.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('portal', 'user_id', name='uq_yandex_accounts_portal_user')
    )
    op.create_table('bitrix_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('expires_at', shared.models.UTCDateTime(), nullable=False),
    sa.Column('refreshed_at', shared.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['portal_id'], ['portals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('portal_id', 'user_id', name='uq_bitrix_credentials_portal_user')
    )


def downgrade() -> None:
    op.drop_table('bitrix_credentials')
    op.drop_table('yandex_accounts')
    op.drop_table('portals')
