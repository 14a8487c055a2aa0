"""Outbox, webhook deliveries and staff alerts

Revision ID: d7e8f9a0b1c2
Revises: c6d7e8f9a0b1
Create Date: 2026-12-01 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import api.crypto
import api.db
from sqlalchemy.dialects import postgresql

revision = 'd7e8f9a0b1c2'
down_revision = 'c6d7e8f9a0b1'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
SERIAL = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table('outbox_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    op.create_index(op.f('ix_outbox_events_referral_id'), 'outbox_events', ['referral_id'], unique=False)
    op.create_table('alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('deadline', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('facts', JSON, nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_alerts_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alerts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('kind', 'subject_id', 'user_id', name='uq_alerts_kind_subject_user')
    )
    op.create_index('ix_alerts_user_id_created_at', 'alerts', ['user_id', 'created_at'], unique=False)
    op.create_table('outbox_deliveries',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.Enum('webhook', 'email', 'gateway', name='delivery_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=True),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('ordering_key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='delivery_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('delivered_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('retry_from', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_outbox_deliveries_agency_code_agencies')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_outbox_deliveries_alert_id_alerts')),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_outbox_deliveries_event_id_outbox_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_deliveries_message_id'))
    )
    op.create_index('ix_outbox_deliveries_agency_code_id', 'outbox_deliveries', ['agency_code', 'id'], unique=False)
    op.create_index(op.f('ix_outbox_deliveries_alert_id'), 'outbox_deliveries', ['alert_id'], unique=False)
    op.create_index('ix_outbox_deliveries_due', 'outbox_deliveries', ['next_attempt_at'], unique=False, sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_index(op.f('ix_outbox_deliveries_event_id'), 'outbox_deliveries', ['event_id'], unique=False)
    op.create_index('ix_outbox_deliveries_pending_key', 'outbox_deliveries', ['ordering_key', 'id'], unique=False, sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_table('outbox_delivery_attempts',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('delivery_id', SERIAL, nullable=False),
    sa.Column('at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['outbox_deliveries.id'], name=op.f('fk_outbox_delivery_attempts_delivery_id_outbox_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_delivery_attempts'))
    )
    op.create_index(op.f('ix_outbox_delivery_attempts_delivery_id'), 'outbox_delivery_attempts', ['delivery_id'], unique=False)
    # plain ADD COLUMN: agencies and users are referenced by foreign keys (no batch rebuild)
    op.add_column('agencies', sa.Column('webhook_url', sa.String(length=500), nullable=True))
    op.add_column('agencies', sa.Column('webhook_secret', api.crypto.EncryptedString(length=255), nullable=True))
    op.add_column('agencies', sa.Column('webhook_failing_since', api.db.UtcDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('email', api.crypto.EncryptedString(length=255), nullable=True))
    op.add_column('users', sa.Column('phone', api.crypto.EncryptedString(length=255), nullable=True))
    op.add_column('users', sa.Column('language', sa.String(length=2), server_default=sa.text("'id'"), nullable=False))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite ≥ 3.35): no rebuild of the referenced tables
    for column in ('language', 'phone', 'email'):
        op.drop_column('users', column)
    for column in ('webhook_failing_since', 'webhook_secret', 'webhook_url'):
        op.drop_column('agencies', column)
    op.drop_table('outbox_delivery_attempts')
    op.drop_table('outbox_deliveries')
    op.drop_table('alerts')
    op.drop_table('outbox_events')
