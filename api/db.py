"""Database plumbing: the declarative base, engines, and one session per request.

Lock order. Writers that lock several rows take them in this one order, so two requests
can wait for each other but never deadlock (PostgreSQL; SQLite has a single writer):

1. agencies (by code), then the routing rules they serve;
2. the child;
3. the city's case reference counter;
4. the case;
5. the case's referrals (by id);
6. the referral feed counter (referrals/feed.py: positions taken as a request ends);
7. the outbox (outbox/service.py): events, deliveries and alerts are new rows, written after
   the feed; a worker's claim locks pending deliveries (SKIP LOCKED) in a transaction that
   holds nothing else, and an alert's unique key waits only for another alert's insert;
8. a month's statistics release (stats/release.py: an analyst's read, which holds no other);
9. the audit sealer's turn (audit/sealer.py): taken by a sealer in a transaction of its own,
   after the request committed; a request's events themselves take no lock.

Login-limit counters (auth/limits.py) are written in transactions of their own.
The KLA roll-ups (stats/rollups.py) are rows appended in the flush of the change they
follow, locking nothing another writer waits for: they take no place in the order. Folding
them (`lindung stats fold`) deletes and rewrites roll-up rows in a transaction of its own,
one fold at a time (an advisory lock that nothing else takes).

A level may be skipped, never taken after a later one. Rows are locked FOR NO KEY UPDATE:
the foreign-key checks of other writers (FOR KEY SHARE on a child, case or agency they
reference) never wait for it, so they cannot close a cycle across the order.
"""

import enum
import uuid
from datetime import UTC, datetime

from flask import current_app, g
from sqlalchemy import JSON, DateTime, Engine, MetaData, Uuid, create_engine, event, make_url
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from api.errors import (
    NotFound,
    collision_problem,
    is_collision,
    is_unavailable,
    unavailable_problem,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JsonList = JSON().with_variant(JSONB(), "postgresql")


def code_enum(codes: type[enum.Enum], name: str) -> SAEnum:
    """A portable enum column stored as its lowercase code, checked by the database."""
    return SAEnum(
        codes,
        native_enum=False,
        create_constraint=True,
        values_callable=lambda members: [member.value for member in members],
        name=name,
        length=max(len(member.value) for member in codes),
        validate_strings=True,
    )


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UtcDateTime, default=utcnow, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, nullable=False)


# the extra of setup.cfg that installs each database's driver
DRIVER_EXTRAS = {"postgresql": ("PostgreSQL", "postgres")}


class MissingDriver(RuntimeError):
    """The database URL names a driver that is not installed; str() is one line saying
    what to install."""


def make_engine(url: str) -> Engine:
    """An engine for URL; SQLite gets WAL, foreign keys and a busy timeout. PostgreSQL
    connections are pinged before use, so a pool recovers by itself after an outage.
    Raises MissingDriver when URL's driver is not installed."""
    try:
        return _engine_for(url)
    except ModuleNotFoundError as error:
        backend = make_url(url).get_backend_name()
        product, extra = DRIVER_EXTRAS.get(backend, (backend, None))
        install = f"pip install 'lindung[{extra}]'" if extra else f"install {error.name}"
        raise MissingDriver(f"{product} needs the driver {error.name}: {install}") from error


def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        # hide_parameters: no statement parameter (a name, a NIK) ever reaches a log
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Python 3.11's sqlite3 opens transactions on its own schedule; take control so
        # SAVEPOINTs and BEGIN IMMEDIATE behave (SQLAlchemy "pysqlite" docs)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A writer must take the write lock up front: a deferred transaction that read
        # first fails at once (SQLITE_BUSY_SNAPSHOT) instead of waiting for the lock.
        if connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """The engine (or a test's connection) and the session factories bound to it."""

    def __init__(self, url: str | None = None, *, bind=None):
        self.bind = bind if bind is not None else make_engine(url)
        options = {}
        if not isinstance(self.bind, Engine):
            # a test's connection with an outer transaction: commits become savepoints
            options["join_transaction_mode"] = "create_savepoint"
        self._reader = sessionmaker(bind=self.bind, expire_on_commit=False, **options)
        writer_bind = self.bind
        if isinstance(self.bind, Engine) and self.bind.dialect.name == "sqlite":
            writer_bind = self.bind.execution_options(sqlite_immediate=True)
        self._writer = sessionmaker(bind=writer_bind, expire_on_commit=False, **options)

    @property
    def dialect(self) -> str:
        return self.bind.dialect.name

    def session(self, *, writes: bool = True) -> Session:
        return (self._writer if writes else self._reader)()


def one_for(session: Session, query, *, entity, for_update: bool, missing: str):
    """The single row of QUERY, or NotFound(MISSING).

    FOR_UPDATE locks its row (FOR NO KEY UPDATE) until the transaction ends (PostgreSQL;
    SQLite writers are serialized anyway), so a racing writer waits and then sees the new
    version: its If-Match fails cleanly instead of colliding later.
    """
    if for_update:
        query = (query.with_for_update(of=entity, key_share=True)
                 .execution_options(populate_existing=True))
    found = session.scalar(query)
    if found is None:
        raise NotFound(missing)
    return found


def database() -> Database:
    return current_app.extensions["lindung.db"]


def get_session() -> Session:
    """The request's session. Every request writes (its audit event at least), so on SQLite
    each takes the write lock up front."""
    if "db_session" not in g:
        g.db_session = database().session(writes=True)
    return g.db_session


def init_app(app, *, bind=None) -> None:
    app.extensions["lindung.db"] = Database(app.config["DATABASE_URL"], bind=bind)

    @app.after_request
    def commit_session(response):
        # the unit of work is the request: a response below 400 is acknowledged only
        # once everything it reports is committed
        session = g.get("db_session")
        if session is not None and response.status_code < 400:
            try:
                session.commit()
            except DBAPIError as error:
                return undone(session, error)
        return response

    @app.teardown_appcontext
    def close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def undone(session: Session, error: DBAPIError):
    """Roll back a request whose last step failed with ERROR, and undo what it had committed
    ahead (an Idempotency-Key claim); a collision (deadlock, serialization failure) answers
    409 with Retry-After, an unreachable database 503 with Retry-After, anything else is
    raised."""
    session.rollback()
    for undo in g.get("on_failed_commit", ()):
        undo()
    if is_unavailable(error):
        return current_app.make_response(unavailable_problem())
    if not is_collision(error):
        raise error
    return current_app.make_response(collision_problem())


def import_models() -> None:
    """Import every domain's tables so Base.metadata is complete (alembic, tests)."""
    import api.agencies.models
    import api.audit.models
    import api.auth.models
    import api.cases.models
    import api.children.models
    import api.idempotency.models
    import api.outbox.models
    import api.referrals.models
    import api.regions.models  # noqa: F401
    import api.stats.models  # noqa: F401
