"""Case intake, workflow and referrals; seeds the agencies and the default routing rules

Revision ID: 641a160e4f9f
Revises: 
Create Date: 2026-11-23 14:55:23.090077
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import api.db
from api.agencies.seed import seeded_rows
from api.referrals.routing import default_rules
from sqlalchemy.dialects import postgresql

revision = '641a160e4f9f'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('services', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_agencies'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('agency', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_id_id', ['actor_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_subject_id_id', ['subject_id', 'id'], unique=False)

    op.create_table('case_reference_counters',
    sa.Column('city_code', sa.String(length=4), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('city_code', 'year', name=op.f('pk_case_reference_counters'))
    )
    op.create_table('households',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kk_number', api.crypto.EncryptedString(length=255), nullable=True),
    sa.Column('kk_hash', sa.String(length=64), nullable=True),
    sa.Column('head_name', sa.String(length=120), nullable=True),
    sa.Column('members_count', sa.Integer(), nullable=True),
    sa.Column('welfare_decile', sa.Integer(), nullable=True),
    sa.Column('receives', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('economic_stressors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('members_count BETWEEN 1 AND 50', name=op.f('ck_households_members_count_range')),
    sa.CheckConstraint('welfare_decile BETWEEN 1 AND 10', name=op.f('ck_households_welfare_decile_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_kk_hash'), ['kk_hash'], unique=False)

    op.create_table('regions',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('level', sa.Enum('province', 'city', 'district', 'village', name='region_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('parent_code', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_code'), ['parent_code'], unique=False)

    op.create_table('children',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('nik', api.crypto.EncryptedString(length=255), nullable=True),
    sa.Column('nik_hash', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.Enum('male', 'female', name='child_sex', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('birth_date_estimated', sa.Boolean(), nullable=False),
    sa.Column('school', sa.String(length=120), nullable=True),
    sa.Column('disability', sa.String(length=120), nullable=True),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('rw', sa.String(length=3), nullable=True),
    sa.Column('rt', sa.String(length=3), nullable=True),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_children_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_nik_hash'), ['nik_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_village_code'), ['village_code'], unique=False)

    op.create_table('routing_rules',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('when', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('service', sa.Enum('psychosocial_support', 'legal_aid', 'safe_shelter', 'medical_examination', 'nutrition_intervention', 'growth_monitoring', 'social_assistance', 'family_support', 'school_support', 'job_training', 'business_capital', name='routing_rule_service', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('due_in_hours', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_routing_rules_agency_code_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('rt_head', 'teacher', 'posyandu_cadre', 'caseworker', 'supervisor', 'agency_officer', 'agency_system', 'analyst', 'admin', name='user_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_users_agency_code_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('category', sa.Enum('violence', 'stunting_risk', name='case_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('reported', 'triaged', 'referred', 'in_service', 'monitoring', 'closed', name='case_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('closure_reason', sa.Enum('resolved', 'unfounded', 'duplicate', 'transferred_out', 'not_reachable', 'withdrawn', name='case_closure_reason', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('risk_level', sa.Enum('high', 'medium', 'low', name='case_risk_level', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('attention_flagged', sa.Boolean(), nullable=False),
    sa.Column('violence_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('incident_date', sa.Date(), nullable=True),
    sa.Column('incident_place', sa.Enum('household', 'public_facility', 'school', 'workplace', 'online', 'other', name='case_incident_place', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('perpetrator_relation', sa.Enum('parent', 'relative', 'neighbour', 'partner_or_friend', 'teacher', 'employer', 'coworker', 'other', 'unknown', name='case_perpetrator_relation', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('village_code', sa.String(length=10), nullable=False),
    sa.Column('rw', sa.String(length=3), nullable=True),
    sa.Column('rt', sa.String(length=3), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('source', sa.Enum('community', 'school', 'posyandu', 'hotline', 'walk_in', 'outreach', 'referral_in', name='case_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reporter_id', sa.Uuid(), nullable=False),
    sa.Column('reporter_role', sa.Enum('rt_head', 'teacher', 'posyandu_cadre', 'caseworker', 'supervisor', 'agency_officer', 'agency_system', 'analyst', 'admin', name='case_reporter_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('assigned_to', sa.Uuid(), nullable=True),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=True),
    sa.Column('triage_due_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('triaged_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('response_due_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('first_accepted_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to'], ['users.id'], name=op.f('fk_cases_assigned_to_users')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_cases_child_id_children')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_cases_household_id_households')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_cases_reporter_id_users')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_cases_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index('ix_cases_category_village_code_created_at', ['category', 'village_code', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_child_id'), ['child_id'], unique=False)
        batch_op.create_index('ix_cases_closed_at_village_code', ['closed_at', 'village_code'], unique=False, postgresql_include=['closure_reason'])
        batch_op.create_index(batch_op.f('ix_cases_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_cases_kla', ['created_at', 'village_code'], unique=False, postgresql_include=['id', 'category', 'triaged_at', 'triage_due_at', 'first_accepted_at', 'violence_types'])
        batch_op.create_index('ix_cases_reporter_id_created_at', ['reporter_id', 'created_at'], unique=False)
        batch_op.create_index('ix_cases_status_triage_due_at', ['status', 'triage_due_at'], unique=False, postgresql_include=['village_code', 'created_at'])
        batch_op.create_index('ix_cases_village_code_created_at', ['village_code', 'created_at'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('response_headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_records_user_id'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_records_created_at', ['created_at'], unique=False)

    op.create_table('user_areas',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_user_areas_region_code_regions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_areas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'region_code', name=op.f('pk_user_areas'))
    )
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.Enum('rt_head', 'teacher', 'posyandu_cadre', 'caseworker', 'supervisor', 'agency_officer', 'agency_system', 'analyst', 'admin', name='case_event_actor_role', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.Enum('reported', 'triaged', 'referred', 'in_service', 'monitoring', 'closed', name='case_event_from_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('to_status', sa.Enum('reported', 'triaged', 'referred', 'in_service', 'monitoring', 'closed', name='case_event_to_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_case_id_id', ['case_id', 'id'], unique=False)

    op.create_table('case_possible_duplicates',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('other_case_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_possible_duplicates_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_case_id'], ['cases.id'], name=op.f('fk_case_possible_duplicates_other_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'other_case_id', name=op.f('pk_case_possible_duplicates'))
    )
    with op.batch_alter_table('case_possible_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_possible_duplicates_other_case_id'), ['other_case_id'], unique=False)

    op.create_table('measurements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('age_days', sa.Integer(), nullable=False),
    sa.Column('weight_kg', sa.Float(), nullable=False),
    sa.Column('height_cm', sa.Float(), nullable=False),
    sa.Column('position', sa.Enum('lying', 'standing', name='measurement_position', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('muac_cm', sa.Float(), nullable=True),
    sa.Column('haz', sa.Float(), nullable=False),
    sa.Column('waz', sa.Float(), nullable=False),
    sa.Column('whz', sa.Float(), nullable=True),
    sa.Column('haz_category', sa.Enum('severely_stunted', 'stunted', 'normal', 'tall', name='haz_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('waz_category', sa.Enum('severely_underweight', 'underweight', 'normal', 'risk_of_overweight', name='waz_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('whz_category', sa.Enum('severely_wasted', 'wasted', 'normal', 'possible_risk_of_overweight', 'overweight', 'obese', name='whz_category', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_measurements_case_id_cases')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_measurements_child_id_children')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_measurements_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements'))
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index('ix_measurements_child_id_measured_on', ['child_id', 'measured_on'], unique=False)
        batch_op.create_index('ix_measurements_measured_on', ['measured_on'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('service', sa.Enum('psychosocial_support', 'legal_aid', 'safe_shelter', 'medical_examination', 'nutrition_intervention', 'growth_monitoring', 'social_assistance', 'family_support', 'school_support', 'job_training', 'business_capital', name='referral_service', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'in_progress', 'completed', 'cancelled', name='referral_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('external_reference', sa.String(length=120), nullable=True),
    sa.Column('due_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sync_seq', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_referrals_agency_code_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_referrals_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('sync_seq', name=op.f('uq_referrals_sync_seq'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_agency_code_sync_seq', ['agency_code', 'sync_seq'], unique=False)
        batch_op.create_index('ix_referrals_case_id', ['case_id'], unique=False, postgresql_include=['agency_code', 'status', 'accepted_at', 'due_at'])
        batch_op.create_index('ix_referrals_status_due_at', ['status', 'due_at'], unique=False, postgresql_include=['case_id'])
        batch_op.create_index('uq_referrals_open_service', ['case_id', 'agency_code', 'service'], unique=True, sqlite_where=sa.text("status IN ('pending', 'accepted', 'in_progress')"), postgresql_where=sa.text("status IN ('pending', 'accepted', 'in_progress')"))
    _seed_agencies_and_rules()
    _protect_audit_trail()


def _protect_audit_trail() -> None:
    """Audit events are appended, never changed: PostgreSQL refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit events are append-only';
        END;
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """)


def _seed_agencies_and_rules() -> None:
    """The five agencies of DESIGN §5 and the default routing rules shipped with the package."""
    now = datetime.now(UTC)
    agencies = sa.table("agencies", sa.column("code"), sa.column("name"),
                        sa.column("services", sa.JSON), sa.column("created_at", sa.DateTime),
                        sa.column("updated_at", sa.DateTime))
    op.bulk_insert(agencies, [{**row, "created_at": now, "updated_at": now}
                              for row in seeded_rows()])
    rules = sa.table("routing_rules", sa.column("id"), sa.column("position"),
                     sa.column("description"), sa.column("when", sa.JSON),
                     sa.column("agency_code"), sa.column("service"), sa.column("due_in_hours"))
    op.bulk_insert(rules, [
        {"id": rule["id"], "position": index, "description": rule["description"],
         "when": rule["when"], "agency_code": rule["agency"], "service": rule["service"],
         "due_in_hours": rule["due_in_hours"]}
        for index, rule in enumerate(default_rules())
    ])


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('uq_referrals_open_service', sqlite_where=sa.text("status IN ('pending', 'accepted', 'in_progress')"), postgresql_where=sa.text("status IN ('pending', 'accepted', 'in_progress')"))
        batch_op.drop_index('ix_referrals_status_due_at', postgresql_include=['case_id'])
        batch_op.drop_index('ix_referrals_case_id', postgresql_include=['agency_code', 'status', 'accepted_at', 'due_at'])
        batch_op.drop_index('ix_referrals_agency_code_sync_seq')

    op.drop_table('referrals')
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index('ix_measurements_measured_on')
        batch_op.drop_index('ix_measurements_child_id_measured_on')

    op.drop_table('measurements')
    with op.batch_alter_table('case_possible_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_possible_duplicates_other_case_id'))

    op.drop_table('case_possible_duplicates')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_case_id_id')

    op.drop_table('case_events')
    op.drop_table('user_areas')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_records_created_at')

    op.drop_table('idempotency_records')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_village_code_created_at')
        batch_op.drop_index('ix_cases_status_triage_due_at', postgresql_include=['village_code', 'created_at'])
        batch_op.drop_index('ix_cases_reporter_id_created_at')
        batch_op.drop_index('ix_cases_kla', postgresql_include=['id', 'category', 'triaged_at', 'triage_due_at', 'first_accepted_at', 'violence_types'])
        batch_op.drop_index(batch_op.f('ix_cases_household_id'))
        batch_op.drop_index('ix_cases_closed_at_village_code', postgresql_include=['closure_reason'])
        batch_op.drop_index(batch_op.f('ix_cases_child_id'))
        batch_op.drop_index('ix_cases_category_village_code_created_at')
        batch_op.drop_index(batch_op.f('ix_cases_assigned_to'))

    op.drop_table('cases')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('routing_rules')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_village_code'))
        batch_op.drop_index(batch_op.f('ix_children_nik_hash'))

    op.drop_table('children')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_code'))

    op.drop_table('regions')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_kk_hash'))

    op.drop_table('households')
    op.drop_table('case_reference_counters')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject_id_id')
        batch_op.drop_index('ix_audit_events_at')
        batch_op.drop_index('ix_audit_events_actor_id_id')

    op.drop_table('audit_events')
    op.drop_table('agencies')
