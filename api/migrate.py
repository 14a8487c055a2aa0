"""Running the alembic migrations of migrations/ from code (CLI, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str, *, connection=None) -> Config:
    """An alembic Config for DATABASE_URL, or reusing CONNECTION (tests)."""
    cfg = Config(str(MIGRATIONS.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(database_url: str, *, connection=None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url, connection=connection), revision)


def downgrade(database_url: str, *, connection=None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url, connection=connection), revision)
