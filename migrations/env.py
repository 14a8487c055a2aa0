"""Alembic environment: the app's metadata, the app's database URL, batch mode for SQLite."""

from logging.config import fileConfig

from alembic import context

from api import config as lindung_config
from api.db import Base, import_models, make_engine

import_models()
target_metadata = Base.metadata
alembic_config = context.config

if alembic_config.config_file_name and not alembic_config.attributes.get("connection"):
    fileConfig(alembic_config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return alembic_config.get_main_option("sqlalchemy.url") or lindung_config.from_environment()[
        "DATABASE_URL"]


def skip_empty_revisions(context_, revision, directives):
    if alembic_config.cmd_opts and getattr(alembic_config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
        process_revision_directives=skip_empty_revisions,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, render_as_batch=True,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        run_with(connection)
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
