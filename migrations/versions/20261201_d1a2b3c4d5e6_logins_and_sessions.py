"""Login counters in the database; session tokens (idle timeout, last use)

Revision ID: d1a2b3c4d5e6
Revises: c4d5e6f7a8b9
Create Date: 2026-12-01 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import api.db

revision = 'd1a2b3c4d5e6'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_limit_counters',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', api.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters')))
    op.create_index(op.f('ix_rate_limit_counters_expires_at'), 'rate_limit_counters',
                    ['expires_at'], unique=False)

    # plain ADD COLUMNs on both databases: SQLite must not rebuild api_tokens' table, and every
    # token issued before this revision is an API token (no idle timeout)
    op.add_column('api_tokens', sa.Column('is_session', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column('api_tokens', sa.Column('last_used_at', api.db.UtcDateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('is_session')
    op.drop_index(op.f('ix_rate_limit_counters_expires_at'), table_name='rate_limit_counters')
    op.drop_table('rate_limit_counters')
