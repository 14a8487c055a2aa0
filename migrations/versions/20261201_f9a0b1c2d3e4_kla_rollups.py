"""KLA roll-ups per kelurahan and day and month, filled from the cases

Revision ID: f9a0b1c2d3e4
Revises: e8f9a0b1c2d3
Create Date: 2026-12-01 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'f9a0b1c2d3e4'
down_revision = 'e8f9a0b1c2d3'
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
HOLDS_OPEN_CASES = sa.text('open_cases <> 0')
UNTRIAGED = sa.text('triaged_at IS NULL')
PENDING = sa.text("status = 'pending'")
DAY_COUNTS = ('violence', 'stunting_risk', 'type_physical', 'type_psychological',
              'type_sexual', 'type_exploitation', 'type_trafficking', 'type_neglect',
              'type_other', 'triaged_on_time', 'triaged_late', 'open_cases',
              'closed_resolved', 'closed_unfounded', 'closed_duplicate',
              'closed_transferred_out', 'closed_not_reachable', 'closed_withdrawn')


def upgrade() -> None:
    op.create_table('kla_days',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kla_days'))
    )
    op.create_index('ix_kla_days_village_code_day', 'kla_days', ['village_code', 'day'],
                    unique=False)
    op.create_index('ix_kla_days_open', 'kla_days', ['village_code', 'day'], unique=False,
                    postgresql_include=['open_cases'], postgresql_where=HOLDS_OPEN_CASES,
                    sqlite_where=HOLDS_OPEN_CASES)
    op.create_table('kla_referral_days',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('referrals', sa.Integer(), nullable=False),
    sa.Column('accepted_on_time', sa.Integer(), nullable=False),
    sa.Column('accepted_late', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kla_referral_days'))
    )
    op.create_index('ix_kla_referral_days_village_code_day', 'kla_referral_days',
                    ['village_code', 'day'], unique=False)
    op.create_table('kla_months',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kla_months'))
    )
    op.create_index('ix_kla_months_village_code_month', 'kla_months', ['village_code', 'month'],
                    unique=False)
    op.create_table('kla_referral_months',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('referrals', sa.Integer(), nullable=False),
    sa.Column('accepted_on_time', sa.Integer(), nullable=False),
    sa.Column('accepted_late', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kla_referral_months'))
    )
    op.create_index('ix_kla_referral_months_village_code_month', 'kla_referral_months',
                    ['village_code', 'month'], unique=False)
    op.create_table('kla_durations',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('measure', sa.String(length=12), nullable=False),
    sa.Column('durations', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kla_durations'))
    )
    op.create_index('ix_kla_durations_measure_village_code_month', 'kla_durations',
                    ['measure', 'village_code', 'month'], unique=False)
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.create_index('ix_referrals_pending_due_at', ['due_at'], unique=False,
                              postgresql_include=['case_id', 'accepted_at'],
                              postgresql_where=PENDING, sqlite_where=PENDING)
    with op.batch_alter_table('cases') as batch_op:
        batch_op.create_index('ix_cases_untriaged', ['triage_due_at'], unique=False,
                              postgresql_include=['village_code', 'created_at'],
                              postgresql_where=UNTRIAGED, sqlite_where=UNTRIAGED)
    # the roll-ups of the cases already reported: the same computation as
    # `lindung stats rebuild`, in this migration's transaction
    from api.stats import rollups

    rollups.rebuild(connection=op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.drop_index('ix_referrals_pending_due_at', postgresql_where=PENDING,
                            sqlite_where=PENDING)
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_index('ix_cases_untriaged', postgresql_where=UNTRIAGED,
                            sqlite_where=UNTRIAGED)
    op.drop_index('ix_kla_durations_measure_village_code_month', table_name='kla_durations')
    op.drop_table('kla_durations')
    op.drop_index('ix_kla_referral_months_village_code_month', table_name='kla_referral_months')
    op.drop_table('kla_referral_months')
    op.drop_index('ix_kla_months_village_code_month', table_name='kla_months')
    op.drop_table('kla_months')
    op.drop_index('ix_kla_referral_days_village_code_day', table_name='kla_referral_days')
    op.drop_table('kla_referral_days')
    op.drop_index('ix_kla_days_open', table_name='kla_days', postgresql_where=HOLDS_OPEN_CASES,
                  sqlite_where=HOLDS_OPEN_CASES)
    op.drop_index('ix_kla_days_village_code_day', table_name='kla_days')
    op.drop_table('kla_days')
