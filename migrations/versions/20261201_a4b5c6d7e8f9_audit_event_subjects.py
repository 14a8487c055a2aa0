"""List reads name what they showed: audit_event_subjects indexes the cases, children and
referrals an event's answer showed

Revision ID: a4b5c6d7e8f9
Revises: f3c4d5e6f7a8
Create Date: 2026-12-01 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'a4b5c6d7e8f9'
down_revision = 'f3c4d5e6f7a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_event_subjects',
        sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('subject_id', sa.String(length=64), nullable=False),
        sa.Column('subject_type', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'],
                                name=op.f('fk_audit_event_subjects_event_id_audit_events')),
        sa.PrimaryKeyConstraint('event_id', 'subject_id', name=op.f('pk_audit_event_subjects')))
    op.create_index('ix_audit_event_subjects_subject_id_event_id', 'audit_event_subjects',
                    ['subject_id', 'event_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # as append-only as the events they index
        op.execute("""
            CREATE TRIGGER audit_event_subjects_append_only
            BEFORE UPDATE OR DELETE ON audit_event_subjects
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_event_subjects_append_only "
                   "ON audit_event_subjects")
    op.drop_index('ix_audit_event_subjects_subject_id_event_id',
                  table_name='audit_event_subjects')
    op.drop_table('audit_event_subjects')
