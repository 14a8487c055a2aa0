"""Keyset list orders on indexes; the staff queue's stored order

Revision ID: e8f9a0b1c2d3
Revises: d7e8f9a0b1c2
Create Date: 2026-12-01 13:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import api.db

revision = 'e8f9a0b1c2d3'
down_revision = 'd7e8f9a0b1c2'
branch_labels = None
depends_on = None

# the deadline running now (Case.current_deadline) and the queue rank (Case.queue_rank:
# 0 emergency with a deadline, 1 emergency, 2 with a deadline, 3 open, 4 closed)
DEADLINE = ("CASE WHEN status = 'reported' THEN triage_due_at "
            "WHEN status IN ('triaged', 'referred') THEN response_due_at END")
RANK = (f"CASE WHEN status = 'closed' THEN 4 "
        f"WHEN emergency THEN CASE WHEN ({DEADLINE}) IS NULL THEN 1 ELSE 0 END "
        f"ELSE CASE WHEN ({DEADLINE}) IS NULL THEN 3 ELSE 2 END END")


def upgrade() -> None:
    # plain ADD COLUMN and CREATE INDEX: SQLite rebuilds no table (with foreign keys on, a
    # rebuilt cases table would take its events and links with it)
    op.add_column('cases', sa.Column('queue_rank', sa.Integer(), nullable=True))
    op.add_column('cases', sa.Column('queue_due_at', api.db.UtcDateTime(timezone=True),
                                     nullable=True))
    op.execute(f"UPDATE cases SET queue_rank = {RANK}, "
               f"queue_due_at = COALESCE({DEADLINE}, created_at)")
    op.drop_index('ix_cases_reporter_id_created_at', table_name='cases')
    op.create_index('ix_cases_reporter_id_created_at', 'cases',
                    ['reporter_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_cases_created_at_id', 'cases', ['created_at', 'id'], unique=False)
    op.create_index('ix_cases_queue', 'cases',
                    ['queue_rank', 'queue_due_at', 'created_at', 'id'], unique=False)
    op.drop_index('ix_alerts_user_id_created_at', table_name='alerts')
    op.create_index('ix_alerts_user_id_created_at', 'alerts', ['user_id', 'created_at', 'id'],
                    unique=False)
    # a search by part of a child's name (GET /cases?q=): trigrams on PostgreSQL (pg_trgm is
    # a trusted extension: the database's owner may create it); a plain index on SQLite,
    # which no index helps with LIKE '%…%'
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index('ix_children_name_key_trgm', 'children', ['name_key'], unique=False,
                    postgresql_using='gin', postgresql_ops={'name_key': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_children_name_key_trgm', table_name='children')
    op.drop_index('ix_alerts_user_id_created_at', table_name='alerts')
    op.create_index('ix_alerts_user_id_created_at', 'alerts', ['user_id', 'created_at'],
                    unique=False)
    op.drop_index('ix_cases_queue', table_name='cases')
    op.drop_index('ix_cases_created_at_id', table_name='cases')
    op.drop_index('ix_cases_reporter_id_created_at', table_name='cases')
    op.create_index('ix_cases_reporter_id_created_at', 'cases', ['reporter_id', 'created_at'],
                    unique=False)
    # DROP COLUMN in place (SQLite ≥ 3.35): no rebuild of the cases table
    op.execute("ALTER TABLE cases DROP COLUMN queue_due_at")
    op.execute("ALTER TABLE cases DROP COLUMN queue_rank")
