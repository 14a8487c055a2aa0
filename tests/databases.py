"""Databases of their own, for tests whose requests commit (a real server, the fuzzing): a
SQLite file, or a PostgreSQL database beside LINDUNG_TEST_DATABASE_URL's, dropped afterwards."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


@contextmanager
def database_of_its_own(directory: Path, name: str) -> Iterator[str]:
    """The URL of a new, empty database called NAME (a file in DIRECTORY on SQLite)."""
    base = os.environ.get("LINDUNG_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{directory / f'{name}.sqlite3'}"
        return
    name = f"{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
