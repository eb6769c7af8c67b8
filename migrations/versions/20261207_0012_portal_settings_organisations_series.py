"""portal settings and their audit; owners' addresses, series, meeting notes and reminders of conferences

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:00:00
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conferences') as batch:
        batch.add_column(sa.Column('owner_email', sa.String(255), nullable=True))
        batch.add_column(sa.Column('recurrence', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('auto_summary', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('reminder_minutes', sa.Integer(), nullable=False, server_default='15'))
        batch.add_column(sa.Column('remind_at', sa.DateTime(), nullable=True))
        batch.create_index('ix_conferences_remind_at', ['remind_at'])
    # The app's reminders not yet sent (no calendar event reminds those invitees) are due 15 minutes before
    # the start, as REMINDER_MINUTES said by default;
    # computed here rather than in SQL, whose date arithmetic differs between SQLite and PostgreSQL.
    conferences = sa.table(
        'conferences', sa.column('id', sa.Integer), sa.column('start_at', sa.DateTime),
        sa.column('remind_at', sa.DateTime), sa.column('reminded_at', sa.DateTime),
        sa.column('cancel_requested', sa.Boolean), sa.column('create_calendar_event', sa.Boolean),
        sa.column('invite_users', sa.Boolean),
    )
    bind = op.get_bind()
    waiting = bind.execute(sa.select(conferences.c.id, conferences.c.start_at).where(
        conferences.c.reminded_at.is_(None), conferences.c.start_at.is_not(None),
        conferences.c.cancel_requested.is_(False), conferences.c.invite_users.is_(True),
        conferences.c.create_calendar_event.is_(False))).all()
    # reminded_at now names the start reminded of, not when: a reminder sent is of the conference's start.
    bind.execute(conferences.update().where(conferences.c.reminded_at.is_not(None))
                 .values(reminded_at=conferences.c.start_at))
    for conference_id, start_at in waiting:
        bind.execute(conferences.update().where(conferences.c.id == conference_id)
                     .values(remind_at=start_at - timedelta(minutes=15)))

    op.create_table(
        'portal_settings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('portal', sa.String(64), nullable=False, unique=True),
        sa.Column('waiting_room_level', sa.String(16), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('reminder_minutes', sa.Integer(), nullable=False),
        sa.Column('auto_summary', sa.Boolean(), nullable=False),
        sa.Column('broadcasts', sa.String(16), nullable=False),
        sa.Column('service_app_client_id', sa.String(255), nullable=True),
        sa.Column('service_app_secret', sa.Text(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_name', sa.String(255), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'settings_changes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('portal', sa.String(64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('user_name', sa.String(255), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
    )
    op.create_index('ix_settings_changes_portal_at', 'settings_changes', ['portal', 'at'])


def downgrade() -> None:
    op.drop_index('ix_settings_changes_portal_at', table_name='settings_changes')
    op.drop_table('settings_changes')
    op.drop_table('portal_settings')
    with op.batch_alter_table('conferences') as batch:
        batch.drop_index('ix_conferences_remind_at')
        batch.drop_column('remind_at')
        batch.drop_column('reminder_minutes')
        batch.drop_column('auto_summary')
        batch.drop_column('recurrence')
        batch.drop_column('owner_email')
