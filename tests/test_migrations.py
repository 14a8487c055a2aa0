"""The models and the migrations describe the same schema, and migrations run both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.db import Base, import_models
from api.migrate import downgrade, upgrade


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
