"""The analysts' monthly statistics releases: published cells, fixed once released

Revision ID: f3c4d5e6f7a8
Revises: e2b3c4d5e6f7
Create Date: 2026-12-01 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'f3c4d5e6f7a8'
down_revision = 'e2b3c4d5e6f7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # new tables only: nothing existing is rebuilt
    op.create_table(
        'stats_releases',
        sa.Column('district_code', sa.String(length=10), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['district_code'], ['regions.code'],
                                name=op.f('fk_stats_releases_district_code_regions')),
        sa.PrimaryKeyConstraint('district_code', 'month', name=op.f('pk_stats_releases')))
    op.create_table(
        'stats_release_cells',
        sa.Column('district_code', sa.String(length=10), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('measure', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.CheckConstraint('value > 0 AND value % 5 = 0',
                           name=op.f('ck_stats_release_cells_rounded')),
        sa.ForeignKeyConstraint(['district_code', 'month'],
                                ['stats_releases.district_code', 'stats_releases.month'],
                                name=op.f('fk_stats_release_cells_district_code_stats_releases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('district_code', 'month', 'measure',
                                name=op.f('pk_stats_release_cells')))


def downgrade() -> None:
    op.drop_table('stats_release_cells')
    op.drop_table('stats_releases')
