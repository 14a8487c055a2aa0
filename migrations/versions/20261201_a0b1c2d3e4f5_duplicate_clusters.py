"""Possible duplicates as clusters; decisions that two cases are not duplicates

Revision ID: a0b1c2d3e4f5
Revises: f9a0b1c2d3e4
Create Date: 2026-12-01 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import api.db

revision = 'a0b1c2d3e4f5'
down_revision = 'f9a0b1c2d3e4'
branch_labels = None
depends_on = None

cases = sa.table('cases', sa.column('id', sa.Uuid()), sa.column('child_id', sa.Uuid()),
                 sa.column('created_at', api.db.UtcDateTime(timezone=True)),
                 sa.column('duplicate_cluster_id', sa.Uuid()))
children = sa.table('children', sa.column('id', sa.Uuid()), sa.column('nik_hash', sa.String()))
pairs = sa.table('case_possible_duplicates', sa.column('case_id', sa.Uuid()),
                 sa.column('other_case_id', sa.Uuid()), sa.column('reason', sa.String()))
dismissals = sa.table('case_duplicate_dismissals', sa.column('case_id', sa.Uuid()),
                      sa.column('other_case_id', sa.Uuid()))


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.add_column(sa.Column('duplicate_cluster_id', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_cases_duplicate_cluster_id_created_at',
                              ['duplicate_cluster_id', 'created_at'], unique=False)
    op.create_table('case_duplicate_dismissals',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('other_case_id', sa.Uuid(), nullable=False),
    sa.Column('decided_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_duplicate_dismissals_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_case_duplicate_dismissals_decided_by_users')),
    sa.ForeignKeyConstraint(['other_case_id'], ['cases.id'], name=op.f('fk_case_duplicate_dismissals_other_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'other_case_id', name=op.f('pk_case_duplicate_dismissals'))
    )
    with op.batch_alter_table('case_duplicate_dismissals') as batch_op:
        batch_op.create_index(batch_op.f('ix_case_duplicate_dismissals_other_case_id'), ['other_case_id'], unique=False)
    _clusters_from_pairs(op.get_bind())
    with op.batch_alter_table('case_possible_duplicates') as batch_op:
        batch_op.drop_index('ix_case_possible_duplicates_other_case_id')
    op.drop_table('case_possible_duplicates')


def _clusters_from_pairs(connection) -> None:
    """Every set of linked cases becomes one cluster, named after its earliest case."""
    parent: dict = {}

    def root(case_id):
        while parent.setdefault(case_id, case_id) != case_id:
            parent[case_id] = parent[parent[case_id]]
            case_id = parent[case_id]
        return case_id

    for case_id, other_id in connection.execute(sa.select(pairs.c.case_id, pairs.c.other_case_id)):
        parent[root(case_id)] = root(other_id)
    if not parent:
        return
    created = dict(connection.execute(sa.select(cases.c.id, cases.c.created_at)
                                      .where(cases.c.id.in_(list(parent)))).all())
    members: dict = {}
    for case_id in parent:
        members.setdefault(root(case_id), []).append(case_id)
    assignments = []
    for group in members.values():
        name = min(group, key=lambda case_id: (created[case_id], str(case_id)))
        assignments += [{"member": case_id, "cluster": name} for case_id in group]
    connection.execute(cases.update().where(cases.c.id == sa.bindparam('member'))
                       .values(duplicate_cluster_id=sa.bindparam('cluster')), assignments)


def downgrade() -> None:
    op.create_table('case_possible_duplicates',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('other_case_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_possible_duplicates_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_case_id'], ['cases.id'], name=op.f('fk_case_possible_duplicates_other_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'other_case_id', name=op.f('pk_case_possible_duplicates'))
    )
    with op.batch_alter_table('case_possible_duplicates') as batch_op:
        batch_op.create_index(batch_op.f('ix_case_possible_duplicates_other_case_id'), ['other_case_id'], unique=False)
    _pairs_from_clusters(op.get_bind())
    with op.batch_alter_table('case_duplicate_dismissals') as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_duplicate_dismissals_other_case_id'))
    op.drop_table('case_duplicate_dismissals')
    # ALTER TABLE … DROP COLUMN on SQLite too (3.35+): a rebuild of the cases table would
    # cascade the delete of every case to the rows referencing it (foreign keys are on)
    op.drop_index('ix_cases_duplicate_cluster_id_created_at', table_name='cases')
    op.drop_column('cases', 'duplicate_cluster_id')


def _pairs_from_clusters(connection) -> None:
    """Every two members of a cluster not set aside as duplicates become a linked pair."""
    rows = connection.execute(
        sa.select(cases.c.id, cases.c.duplicate_cluster_id, cases.c.child_id, children.c.nik_hash)
        .join(children, children.c.id == cases.c.child_id)
        .where(cases.c.duplicate_cluster_id.is_not(None))).all()
    set_aside = set(connection.execute(sa.select(dismissals.c.case_id,
                                                 dismissals.c.other_case_id)).all())
    clusters: dict = {}
    for row in rows:
        clusters.setdefault(row.duplicate_cluster_id, []).append(row)
    links = [
        {"case_id": one.id, "other_case_id": other.id,
         "reason": "same_child" if one.child_id == other.child_id or (
             one.nik_hash is not None and one.nik_hash == other.nik_hash)
         else "same_child_and_village"}
        for group in clusters.values() for one in group for other in group
        if one.id != other.id and (one.id, other.id) not in set_aside]
    if links:
        connection.execute(pairs.insert(), links)
