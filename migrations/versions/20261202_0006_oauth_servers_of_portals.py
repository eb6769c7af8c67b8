"""OAuth server and state of portals

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import shared.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The OAuth server that issued a portal's tokens (regional: oauth.bitrix24.tech or oauth.bitrix.info), and
    # when the portal was found deleted (PORTAL_DELETED).
    with op.batch_alter_table("portals") as batch:
        batch.add_column(sa.Column("oauth_server", sa.String(255), nullable=True))
        batch.add_column(sa.Column("deleted_at", shared.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portals") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("oauth_server")
