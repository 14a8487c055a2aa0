"""The referral feed's counter row; children's names as compared (name_key)

Revision ID: c4d5e6f7a8b9
Revises: b7e1c2d3a4f5
Create Date: 2026-12-01 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

from api.children.names import name_key

revision = 'c4d5e6f7a8b9'
down_revision = 'b7e1c2d3a4f5'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    counter = op.create_table(
        'referral_feed_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_position', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_feed_counter')))
    last = op.get_bind().scalar(sa.text("SELECT coalesce(max(sync_seq), 0) FROM referrals"))
    op.bulk_insert(counter, [{"id": 1, "last_position": last}])

    # a plain ADD COLUMN on both databases: SQLite must not rebuild a table that cases and
    # measurements reference
    op.add_column('children', sa.Column('name_key', sa.String(length=120), nullable=False,
                                        server_default=sa.text("''")))
    _key_every_name()
    op.create_index('ix_children_village_code_birth_date', 'children',
                    ['village_code', 'birth_date'], unique=False)


def _key_every_name() -> None:
    """Keys are computed in Python (children/names.py), as the application computes them."""
    bind = op.get_bind()
    children = sa.table('children', sa.column('id', sa.Uuid()), sa.column('name'),
                        sa.column('name_key'))
    last = None
    while True:
        query = sa.select(children.c.id, children.c.name).order_by(children.c.id).limit(BATCH)
        if last is not None:
            query = query.where(children.c.id > last)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(children.update().where(children.c.id == sa.bindparam('child_id'))
                     .values(name_key=sa.bindparam('key')),
                     [{"child_id": child_id, "key": name_key(name)} for child_id, name in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_children_village_code_birth_date', table_name='children')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('name_key')
    op.drop_table('referral_feed_counter')
