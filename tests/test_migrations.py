"""The models and the migrations describe the same schema, and migrations run both ways."""

import uuid
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Uuid, bindparam, inspect, select, text

from api.auth.models import ApiToken
from api.children.names import name_key
from api.db import Base, UtcDateTime, import_models, utcnow
from api.migrate import downgrade, upgrade

USER, CHILD, MEASUREMENT = (uuid.uuid4() for _ in range(3))
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _insert(connection, sql: str, **values) -> None:
    """SQL with its ids and timestamps bound as the models store them on each backend."""
    types = {"id": Uuid(), "child": Uuid(), "user": Uuid(), "at": UtcDateTime()}
    statement = text(sql).bindparams(*(bindparam(name, type_=types[name]) for name in values))
    connection.execute(statement, values)


def _differences(connection):
    import_models()
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "compare_server_default": True})
    return compare_metadata(context, Base.metadata)


def test_migrated_database_matches_the_models(connection):
    assert _differences(connection) == []


def test_migrations_downgrade_to_nothing_and_back(connection, database_url):
    # inside the test's transaction: DDL is transactional on both backends and rolled back
    downgrade(database_url, connection=connection)
    assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    upgrade(database_url, connection=connection)
    assert "cases" in inspect(connection).get_table_names()
    assert _differences(connection) == []


def test_upgrading_a_database_with_weighed_children_keys_their_names(connection,
                                                                     database_url):
    """The embedded database of a running deployment: children referenced by cases and
    measurements (SQLite with foreign keys on must not rebuild their table)."""
    downgrade(database_url, connection=connection, revision="b7e1c2d3a4f5")
    connection.execute(text(
        "INSERT INTO regions (code, name, level, parent_code) VALUES "
        "('99', 'Uji', 'province', NULL), ('9901', 'Kota Uji', 'city', '99'), "
        "('990101', 'Uji Timur', 'district', '9901'), "
        "('9901011001', 'Uji Satu', 'village', '990101')"))
    _insert(connection, (
        "INSERT INTO users (id, username, role, active, created_at) "
        "VALUES (:id, 'kader-uji', 'posyandu_cadre', true, :at)"), id=USER, at=AT)
    _insert(connection, (
        "INSERT INTO children (id, name, sex, birth_date, birth_date_estimated, village_code, "
        "created_at, updated_at, version) VALUES (:id, 'Élise  WULANDARI', 'female', "
        "'2025-01-01', false, '9901011001', :at, :at, 1)"), id=CHILD, at=AT)
    _insert(connection, (
        "INSERT INTO measurements (id, child_id, measured_on, age_days, weight_kg, height_cm, "
        "position, haz, waz, haz_category, waz_category, flags, recorded_by, created_at) "
        "VALUES (:id, :child, '2025-06-01', 151, 6.0, 62.0, 'lying', 0.1, 0.1, 'normal', "
        "'normal', '[]', :user, :at)"), id=MEASUREMENT, child=CHILD, user=USER, at=AT)
    upgrade(database_url, connection=connection)
    key = connection.execute(text("SELECT name_key FROM children WHERE id = :id").bindparams(
        bindparam("id", type_=Uuid())), {"id": CHILD}).scalar_one()
    assert key == name_key("Élise Wulandari") != ""
    assert _differences(connection) == []


def test_tokens_of_people_issued_before_sessions_end_within_a_session_lifetime(
        connection, database_url):
    downgrade(database_url, connection=connection, revision="c4d5e6f7a8b9")
    person, machine = uuid.uuid4(), uuid.uuid4()
    for user, role in ((person, "caseworker"), (machine, "agency_system")):
        _insert(connection, "INSERT INTO users (id, username, role, active, created_at) "
                f"VALUES (:id, '{role}-lama', '{role}', true, :at)", id=user, at=AT)
        _insert(connection, "INSERT INTO api_tokens (id, user_id, token_hash, created_at) "
                f"VALUES (:id, :user, '{role:0<64}', :at)", id=uuid.uuid4(), user=user, at=AT)
    upgrade(database_url, connection=connection)
    ends = dict(connection.execute(
        select(ApiToken.user_id, ApiToken.expires_at)
        .where(ApiToken.user_id.in_([person, machine]))).all())
    assert ends[machine] is None
    assert ends[person] is not None and ends[person] <= utcnow() + timedelta(days=7)
