"""WHO anthro flags: a flagged z-score is null, the measurement's flags are listed

Revision ID: b7e1c2d3a4f5
Revises: 641a160e4f9f
Create Date: 2026-12-01 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'b7e1c2d3a4f5'
down_revision = '641a160e4f9f'
branch_labels = None
depends_on = None

FLAGS = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
HAZ_CATEGORY = sa.Enum('severely_stunted', 'stunted', 'normal', 'tall', name='haz_category',
                       native_enum=False, create_constraint=True)
WAZ_CATEGORY = sa.Enum('severely_underweight', 'underweight', 'normal', 'risk_of_overweight',
                       name='waz_category', native_enum=False, create_constraint=True)


def upgrade() -> None:
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', FLAGS, nullable=True))
        batch_op.alter_column('haz', existing_type=sa.Float(), nullable=True)
        batch_op.alter_column('waz', existing_type=sa.Float(), nullable=True)
        batch_op.alter_column('haz_category', existing_type=HAZ_CATEGORY, nullable=True)
        batch_op.alter_column('waz_category', existing_type=WAZ_CATEGORY, nullable=True)
    # every measurement scored before these rules had all its z-scores: nothing was flagged
    op.execute("UPDATE measurements SET flags = '[]'")
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.alter_column('flags', existing_type=FLAGS, nullable=False)


def downgrade() -> None:
    # the old schema cannot hold a flagged (null) z-score; measurements are not thrown away
    flagged = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM measurements WHERE haz IS NULL OR waz IS NULL"))
    if flagged:
        raise RuntimeError(f"{flagged} measurements have a z-score WHO flags as implausible "
                           "(null); the previous schema cannot hold them.")
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.alter_column('waz_category', existing_type=WAZ_CATEGORY, nullable=False)
        batch_op.alter_column('haz_category', existing_type=HAZ_CATEGORY, nullable=False)
        batch_op.alter_column('waz', existing_type=sa.Float(), nullable=False)
        batch_op.alter_column('haz', existing_type=sa.Float(), nullable=False)
        batch_op.drop_column('flags')
