"""What a probe asks of the database: can it be reached, and is its schema the one this
code was written for (the alembic revisions of migrations/). No Flask here."""

from dataclasses import dataclass

from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.migrate import head_revisions, known_revisions


@dataclass(frozen=True)
class Readiness:
    """database: "ok" or "unreachable"; schema: "current" (at the newest migration),
    "behind" (older, or never migrated: run `lindung db upgrade`), "newer" (migrated by a
    newer release than this process) or "unknown" (the database was not reached);
    revisions: the alembic revisions the database carries."""

    database: str
    schema: str
    revisions: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.schema == "current"


def database_reachable(bind: Engine | Connection) -> bool:
    """True when a trivial query on BIND (an engine, or a test's connection) succeeds."""
    try:
        _run(bind, lambda connection: connection.execute(text("SELECT 1")))
    except SQLAlchemyError:
        return False
    return True


def readiness(bind: Engine | Connection) -> Readiness:
    """Whether BIND's database is reachable and at the newest schema (see Readiness)."""
    try:
        revisions = _run(bind, lambda connection: tuple(sorted(
            MigrationContext.configure(connection).get_current_heads())))
    except SQLAlchemyError:
        return Readiness(database="unreachable", schema="unknown")
    if set(revisions) == head_revisions():
        schema = "current"
    elif set(revisions) - known_revisions():
        schema = "newer"  # a revision this code has never seen was written by a newer release
    else:
        schema = "behind"
    return Readiness(database="ok", schema=schema, revisions=revisions)


def _run(bind, query):
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return query(connection)
    if bind.in_transaction():
        return query(bind)
    try:  # a connection lent by its owner (a test's) is handed back as it came: no transaction
        return query(bind)
    finally:
        bind.rollback()
