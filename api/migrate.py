"""Running the alembic migrations of migrations/ from code (CLI, tests, readiness).

The alembic Config is built here, so migrating depends neither on the current directory nor
on alembic.ini (which stays for developers running `alembic` by hand). The scripts are found
in the source tree beside the `api` package, or where an installed wheel put them
(`<prefix>/share/lindung/migrations`, declared as data files in setup.cfg).
"""

import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

SOURCE_TREE = Path(__file__).resolve().parent.parent
INSTALLED = Path("share", "lindung", "migrations")


class MigrationsMissing(RuntimeError):
    """Neither the source tree nor the installed distribution holds the migration scripts."""


def migrations_directory() -> Path:
    """The folder holding env.py and versions/: the source tree's when running from it,
    else the installed distribution's; raises MigrationsMissing when there is neither."""
    source = SOURCE_TREE / "migrations"
    # alembic.ini marks the source tree: a stray site-packages/migrations is not ours
    if (source / "env.py").is_file() and (SOURCE_TREE / "alembic.ini").is_file():
        return source
    for candidate in _installed_candidates():
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationsMissing("the migration scripts of Lindung are not installed "
                            f"(looked in {source} and {Path(sys.prefix) / INSTALLED})")


def _installed_candidates():
    try:
        files = metadata.distribution("lindung").files or ()
    except metadata.PackageNotFoundError:
        files = ()
    for file in files:
        if file.parts[-4:] == (*INSTALLED.parts, "env.py"):
            yield Path(file.locate()).resolve().parent
    yield Path(sys.prefix) / INSTALLED


def alembic_config(database_url: str, *, connection=None) -> Config:
    """An alembic Config for DATABASE_URL (the settings of alembic.ini), or reusing
    CONNECTION (tests)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_directory()))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revisions() -> frozenset[str]:
    """The revision ids a database at the newest schema carries (read once per process)."""
    return frozenset(_scripts().get_heads())


@cache
def known_revisions() -> frozenset[str]:
    """Every revision id of migrations/ (read once per process)."""
    return frozenset(revision.revision for revision in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(migrations_directory()))


def upgrade(database_url: str, *, connection=None, revision: str = "head") -> None:
    """Migrate DATABASE_URL (or CONNECTION) up to REVISION."""
    command.upgrade(alembic_config(database_url, connection=connection), revision)


def downgrade(database_url: str, *, connection=None, revision: str = "base") -> None:
    """Migrate DATABASE_URL (or CONNECTION) down to REVISION."""
    command.downgrade(alembic_config(database_url, connection=connection), revision)
