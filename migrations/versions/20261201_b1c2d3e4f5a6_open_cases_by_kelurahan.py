"""The staff queue's counts from an index of the open cases by kelurahan

Revision ID: b1c2d3e4f5a6
Revises: a0b1c2d3e4f5
Create Date: 2026-12-01 16:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1c2d3e4f5a6'
down_revision = 'a0b1c2d3e4f5'
branch_labels = None
depends_on = None

OPEN = sa.text("queue_rank < 4")  # api/cases/models.py QUEUE_CLOSED


def upgrade() -> None:
    op.create_index('ix_cases_open_village_code', 'cases', ['village_code'], unique=False,
                    postgresql_include=['id', 'status', 'category', 'risk_level',
                                        'triage_due_at', 'response_due_at',
                                        'attention_flagged', 'queue_rank'],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_cases_open_village_code', table_name='cases')
