"""Request ids up to 128 characters

Revision ID: b5c6d7e8f9a0
Revises: a4b5c6d7e8f9
Create Date: 2026-12-01 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'b5c6d7e8f9a0'
down_revision = 'a4b5c6d7e8f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DESIGN §3: an X-Request-ID of up to 128 visible ASCII characters is kept as given
    _resize_request_id(64, 128)


def downgrade() -> None:
    _resize_request_id(128, 64)


def _resize_request_id(old: int, new: int) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # changing a varchar's length fires no row trigger (audit events stay append-only);
        # longer ids are cut on the way down
        op.alter_column('audit_events', 'request_id', type_=sa.String(length=new),
                        existing_type=sa.String(length=old), existing_nullable=True,
                        postgresql_using=f'left(request_id, {new})')
        return
    # SQLite cannot change a column's type, and audit_events may not be rebuilt (other
    # tables reference it): a new column takes the values and the old name
    op.execute(f'ALTER TABLE audit_events ADD COLUMN request_id_resized VARCHAR({new})')
    op.execute(f'UPDATE audit_events SET request_id_resized = substr(request_id, 1, {new})')
    op.execute('ALTER TABLE audit_events DROP COLUMN request_id')
    op.execute('ALTER TABLE audit_events RENAME COLUMN request_id_resized TO request_id')
