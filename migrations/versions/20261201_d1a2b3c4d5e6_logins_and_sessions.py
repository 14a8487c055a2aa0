"""Login counters in the database; session tokens (idle timeout, last use)

Revision ID: d1a2b3c4d5e6
Revises: c4d5e6f7a8b9
Create Date: 2026-12-01 12:00:00.000000
"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa
import api.db

revision = 'd1a2b3c4d5e6'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


SESSION_MAX_DAYS = 7  # LINDUNG_SESSION_MAX_DAYS' default


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
    _bound_tokens_of_people()


def _bound_tokens_of_people() -> None:
    """Tokens of people issued before this revision (password logins without an end, tokens
    an admin issued in someone's name) end at most a session's lifetime after the upgrade;
    machine accounts keep theirs."""
    cap = datetime.now(UTC) + timedelta(days=SESSION_MAX_DAYS)
    tokens = sa.table('api_tokens', sa.column('user_id', sa.Uuid()),
                      sa.column('expires_at', api.db.UtcDateTime()),
                      sa.column('revoked_at', api.db.UtcDateTime()))
    users = sa.table('users', sa.column('id', sa.Uuid()), sa.column('role', sa.String()))
    op.get_bind().execute(
        tokens.update()
        .where(tokens.c.revoked_at.is_(None),
               sa.or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > cap),
               tokens.c.user_id.in_(sa.select(users.c.id)
                                    .where(users.c.role != 'agency_system')))
        .values(expires_at=cap))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('is_session')
    op.drop_index(op.f('ix_rate_limit_counters_expires_at'), table_name='rate_limit_counters')
    op.drop_table('rate_limit_counters')
