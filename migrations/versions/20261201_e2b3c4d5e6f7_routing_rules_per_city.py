"""Routing rules per city: each city (regions of level city) gets a copy of the stored set

Revision ID: e2b3c4d5e6f7
Revises: d1a2b3c4d5e6
Create Date: 2026-12-01 12:00:00.000000

The primary key becomes (city_code, id), so routing_rules is rebuilt: no table references it,
and rebuilding it by hand is the same statement on SQLite and PostgreSQL. A city imported
later gets the default set (regions/service.py import_regions).

The downgrade keeps one set for everybody: that of the first city by code (or the default
set when no city has rules); the other cities' edits are lost.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from api.referrals.routing import default_rules

revision = 'e2b3c4d5e6f7'
down_revision = 'd1a2b3c4d5e6'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
SERVICES = ('psychosocial_support', 'legal_aid', 'safe_shelter', 'medical_examination',
            'nutrition_intervention', 'growth_monitoring', 'social_assistance',
            'family_support', 'school_support', 'job_training', 'business_capital')
RULE_COLUMNS = ('id', 'position', 'description', 'when', 'agency_code', 'service',
                'due_in_hours')


def _rule_columns():
    return [
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('when', JSON, nullable=False),
        sa.Column('agency_code', sa.String(length=32), nullable=False),
        sa.Column('service', sa.Enum(*SERVICES, name='routing_rule_service', native_enum=False,
                                     create_constraint=True), nullable=False),
        sa.Column('due_in_hours', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'],
                                name=op.f('fk_routing_rules_agency_code_agencies')),
    ]


def _rules_table(*extra):
    return sa.table('routing_rules', *extra, sa.column('id'), sa.column('position'),
                    sa.column('description'), sa.column('when', JSON),
                    sa.column('agency_code'), sa.column('service'), sa.column('due_in_hours'))


def upgrade() -> None:
    bind = op.get_bind()
    old = _rules_table()
    rules = [dict(row._mapping) for row in bind.execute(
        sa.select(old).order_by(old.c.position, old.c.id))]
    cities = bind.scalars(sa.text(
        "SELECT code FROM regions WHERE level = 'city' ORDER BY code")).all()
    op.drop_table('routing_rules')
    rebuilt = op.create_table(
        'routing_rules',
        sa.Column('city_code', sa.String(length=4), nullable=False),
        *_rule_columns(),
        sa.ForeignKeyConstraint(['city_code'], ['regions.code'],
                                name=op.f('fk_routing_rules_city_code_regions')),
        sa.PrimaryKeyConstraint('city_code', 'id', name=op.f('pk_routing_rules')))
    if rules and cities:
        op.bulk_insert(rebuilt, [{**rule, 'city_code': city}
                                 for city in cities for rule in rules])


def downgrade() -> None:
    bind = op.get_bind()
    per_city = _rules_table(sa.column('city_code'))
    first = sa.select(sa.func.min(per_city.c.city_code)).scalar_subquery()
    rules = [dict(row._mapping) for row in bind.execute(
        sa.select(*(per_city.c[name] for name in RULE_COLUMNS))
        .where(per_city.c.city_code == first).order_by(per_city.c.position))]
    if not rules:
        rules = [{'id': rule['id'], 'position': index, 'description': rule['description'],
                  'when': rule['when'], 'agency_code': rule['agency'],
                  'service': rule['service'], 'due_in_hours': rule['due_in_hours']}
                 for index, rule in enumerate(default_rules())]
    op.drop_table('routing_rules')
    rebuilt = op.create_table(
        'routing_rules', *_rule_columns(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')))
    op.bulk_insert(rebuilt, rules)
