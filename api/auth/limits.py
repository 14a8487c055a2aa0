"""Rate limits on password logins (flask-limiter): per account and per client address.

Counted once for the whole server: by default in the application's own database (the SQLite
file or PostgreSQL that every worker process and every host already shares), through the
`database://` storage below; set LINDUNG_RATELIMIT_STORAGE_URI to a Redis URL
(redis://host:6379) to count there instead. A storage for `limits` rather than a counter of
our own: flask-limiter keeps its keys, its 429 with Retry-After and its X-RateLimit headers
whichever store counts, and Redis stays one setting away.
"""

import hashlib
from datetime import datetime, timedelta
from urllib.parse import urlparse

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from api.auth.models import RateLimitCounter
from api.auth.service import normalise_username
from api.db import Database, utcnow

PER_ACCOUNT = "5 per minute;20 per hour"
PER_ADDRESS = "20 per minute"
LOGIN_ENDPOINT = "me.AuthTokens"
DATABASE_STORAGE = "database://"
PURGE_BATCH = 500  # expired windows deleted at a time, so a purge never holds many rows


def account_of_request() -> str:
    """The login's account as the login finds it (service.normalise_username), so that no
    spelling of a name (spaces, capitals) opens a fresh count."""
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    account = normalise_username(username) if isinstance(username, str) else ""
    # hashed: any text the caller sends (lone surrogates, NUL) makes a key every store keeps
    return f"account:{hashlib.sha256(account.encode('utf-8', 'surrogatepass')).hexdigest()}"


def init_app(app) -> Limiter:
    """A limiter of this app's own, wrapped around the login view."""
    uri = app.config.setdefault("RATELIMIT_STORAGE_URI",
                                app.config["RATE_LIMIT_STORAGE"] or DATABASE_STORAGE)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["RATE_LIMIT_PREFIX"])
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    options = {}
    if urlparse(uri).scheme == urlparse(DATABASE_STORAGE).scheme:
        options["database"] = app.extensions["lindung.db"]
    limiter = Limiter(key_func=get_remote_address, app=app, storage_options=options)
    view = app.view_functions[LOGIN_ENDPOINT]
    # the view also answers DELETE (logging out): only a login is a try
    view = limiter.limit(PER_ACCOUNT, key_func=account_of_request, scope="login-account",
                         methods=["POST"])(view)
    view = limiter.limit(PER_ADDRESS, scope="login-address", methods=["POST"])(view)
    app.view_functions[LOGIN_ENDPOINT] = view
    return limiter


class DatabaseStorage(Storage):
    """Fixed-window counters for `limits` in the application's database (rate_limit_counters).

    Each hit is one atomic upsert, committed at once in a transaction of its own: concurrent
    workers on one key queue on its row (PostgreSQL) or on the write lock (SQLite), so no try
    is lost or counted twice, and a login that fails (its request rolled back) stays counted.
    A window starts with its first hit and lasts the limit's period, as in `limits`' memory
    and Redis storages. Expired windows are deleted as new ones start.
    """

    STORAGE_SCHEME = [urlparse(DATABASE_STORAGE).scheme]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *,
                 database: Database, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add AMOUNT hits to KEY's window (a new one of EXPIRY seconds if it has none or it
        ended); the window's hits, this one included."""
        now = utcnow()
        with self.database.session() as session:
            hits = session.execute(_hit(session, key=key, amount=amount, now=now,
                                        ends=now + timedelta(seconds=expiry))).scalar_one()
            session.commit()
        if hits == amount:  # a window began: a good moment to clear the ended ones
            self._purge(now)
        return hits

    def get(self, key: str) -> int:
        """The hits in KEY's current window (0 when it has none)."""
        row = self._window(key)
        return row.hits if row is not None else 0

    def get_expiry(self, key: str) -> float:
        """When KEY's current window ends, in seconds since the epoch (now when none)."""
        row = self._window(key)
        return (row.expires_at if row is not None else utcnow()).timestamp()

    def check(self) -> bool:
        try:
            with self.database.session(writes=False) as session:
                session.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.database.session() as session:
            removed = session.execute(delete(RateLimitCounter)).rowcount
            session.commit()
        return removed

    def clear(self, key: str) -> None:
        with self.database.session() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
            session.commit()

    def _window(self, key: str) -> RateLimitCounter | None:
        with self.database.session(writes=False) as session:
            return session.scalar(select(RateLimitCounter).where(
                RateLimitCounter.key == key, RateLimitCounter.expires_at > utcnow()))

    def _purge(self, now: datetime) -> None:
        # SKIP LOCKED (PostgreSQL): a window some login is counting in is left for later,
        # so a purge never waits for a login nor a login for a purge
        ended = (select(RateLimitCounter.key).where(RateLimitCounter.expires_at <= now)
                 .limit(PURGE_BATCH).with_for_update(skip_locked=True))
        with self.database.session() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.key.in_(ended)))
            session.commit()


def _hit(session, *, key: str, amount: int, now: datetime, ends: datetime):
    """INSERT … ON CONFLICT DO UPDATE … RETURNING hits: a new window, or AMOUNT more hits in
    the current one (both databases evaluate the SET against the row as it was)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = RateLimitCounter.__table__
    statement = insert(table).values(key=key, hits=amount, expires_at=ends)
    ended = table.c.expires_at <= now
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"hits": case((ended, statement.excluded.hits), else_=table.c.hits + amount),
              "expires_at": case((ended, statement.excluded.expires_at),
                                 else_=table.c.expires_at)},
    ).returning(table.c.hits)
