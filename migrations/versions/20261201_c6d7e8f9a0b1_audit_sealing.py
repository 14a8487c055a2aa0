"""Audit events sealed into the chain after commit

Events are appended without a lock and sealed later (api/audit/sealer.py): seq, prev_hash and
hash become NULL until then. The old chain (unkeyed SHA-256 in id order) is dropped and every
existing event is sealed again into the keyed chain by the first sealer; run `lindung audit
verify` on the old version first to know the old chain was intact.

SQLite: plain DROP/ADD COLUMN, never a rebuild of audit_events (audit_event_subjects refers
to it). PostgreSQL: the append-only trigger now lets the chain columns be set once, from
NULL, with nothing else changed; TRUNCATE is refused on both audit tables.

Anonymous refusals (401) are counted per source and hour in audit_anonymous_refusals.

Revision ID: c6d7e8f9a0b1
Revises: b5c6d7e8f9a0
Create Date: 2026-12-01 12:00:00.000000
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

import api.db

revision = 'c6d7e8f9a0b1'
down_revision = 'b5c6d7e8f9a0'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.drop_column('audit_events', 'prev_hash')
    op.drop_column('audit_events', 'hash')
    op.add_column('audit_events', sa.Column('seq', BIGINT, nullable=True))
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_index('uq_audit_events_seq', 'audit_events', ['seq'], unique=True)
    op.create_index('ix_audit_events_unsealed', 'audit_events', ['id'], unique=False,
                    sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))
    op.create_table(
        'audit_anonymous_refusals',
        sa.Column('source', sa.String(length=45), nullable=False),
        sa.Column('window_start', api.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('refusals', sa.Integer(), nullable=False),
        sa.Column('last_at', api.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('source', 'window_start',
                                name=op.f('pk_audit_anonymous_refusals')))
    if postgresql:
        _seal_once_and_refuse_truncate()


def _seal_once_and_refuse_truncate() -> None:
    op.execute("""
        CREATE OR REPLACE FUNCTION audit_events_sealed_once() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash IS NULL
               AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL
               AND NEW.hash IS NOT NULL
               AND to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash'
                   = to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash' THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit events are append-only: only an unsealed event''s '
                            'seq, prev_hash and hash may be set, once';
        END;
        $$ LANGUAGE plpgsql
    """)
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("""
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_sealed_once()
    """)
    for table in ('audit_events', 'audit_event_subjects'):
        op.execute(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        """)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        for table in ('audit_events', 'audit_event_subjects'):
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_sealed_once()")
    op.drop_table('audit_anonymous_refusals')
    op.drop_index('ix_audit_events_unsealed', table_name='audit_events')
    op.drop_index('uq_audit_events_seq', table_name='audit_events')
    op.drop_column('audit_events', 'hash')
    op.drop_column('audit_events', 'prev_hash')
    op.drop_column('audit_events', 'seq')
    # the old schema's unkeyed chain in id order, rebuilt over the events there are
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64),
                                            nullable=False, server_default=''))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64),
                                            nullable=False, server_default=''))
    _rechain_unkeyed()
    if postgresql:
        op.alter_column('audit_events', 'prev_hash', server_default=None)
        op.alter_column('audit_events', 'hash', server_default=None)
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)


def _rechain_unkeyed() -> None:
    connection = op.get_bind()
    fields = ('at', 'actor_id', 'actor_role', 'agency', 'action', 'subject_type',
              'subject_id', 'outcome', 'request_id', 'client_ip', 'details')
    types = {'at': api.db.UtcDateTime(), 'actor_id': sa.Uuid(), 'details': api.db.JsonList}
    events = sa.table('audit_events', sa.column('id'), sa.column('prev_hash'),
                      sa.column('hash'), *(sa.column(name, types.get(name)) for name in fields))
    rows = connection.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    previous = '0' * 64
    for row in rows:
        body = {name: row[name] for name in fields}
        body['at'] = row['at'].isoformat(timespec='microseconds')
        body['actor_id'] = str(row['actor_id']) if row['actor_id'] else None
        canonical = json.dumps(body, sort_keys=True, separators=(',', ':'), default=str)
        digest = hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()
        connection.execute(events.update().where(events.c.id == row['id']).values(
            prev_hash=previous, hash=digest))
        previous = digest
