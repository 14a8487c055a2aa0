"""Test harness: a migrated real database (SQLite file, or PostgreSQL when
LINDUNG_TEST_DATABASE_URL is set), each test in a transaction that is rolled back."""

import os
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

os.environ.setdefault("LINDUNG_SECRET_KEY", "test-secret-key")
# the checkpoints of rolled-back test transactions must not outlive them: log lines only,
# unless a test names a file of its own
os.environ.setdefault("LINDUNG_AUDIT_CHECKPOINTS", "")

from api import create_app  # noqa: E402
from api.auth import service as auth_service  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.regions.service import BUNDLED_REGIONS, import_regions, read_region_file  # noqa: E402
from api.vocabularies.codes import Role  # noqa: E402

# Kota Balikpapan > Balikpapan Timur > Manggar / Lamaru; Kota Banjarmasin > … > Mantuil
BALIKPAPAN = "6471"
BALIKPAPAN_TIMUR = "647101"
MANGGAR = "6471011001"
LAMARU = "6471011002"
BANJARMASIN = "6371"
MANTUIL = "6371011001"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("LINDUNG_TEST_DATABASE_URL")
    if url:
        engine = make_engine(url)
        with engine.begin() as connection:  # a clean schema for this run
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'lindung-test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        import_regions(session=session, rows=read_region_file(BUNDLED_REGIONS))
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    """A connection whose outer transaction is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session(connection):
    with Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(connection, database_url):
    return create_app({"DATABASE_URL": database_url, "TESTING": True}, bind=connection)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Caller:
    """A user with a live token, ready to call the API."""

    id: uuid.UUID
    username: str
    role: Role
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(session):
    def make(role: Role | str, areas=(), agency: str | None = None) -> Caller:
        role = Role(role)
        user = auth_service.create_user(
            session=session, username=f"{role.value}-{uuid.uuid4().hex[:8]}", role=role,
            area_codes=list(areas), agency_code=agency,
        )
        token = auth_service.issue_token(session=session, user=user)
        session.commit()
        return Caller(id=user.id, username=user.username, role=role, token=token)

    return make


def child_report(**overrides) -> dict:
    """A valid report of violence against a 9-year-old in Manggar, Balikpapan."""
    report = {
        "category": "violence",
        "violence_types": ["physical"],
        "village_code": MANGGAR,
        "rt": "7",
        "rw": "2",
        "address": "Jl. Mulawarman Gg. Damai",
        "incident_date": "2026-11-01",
        "incident_place": "household",
        "description": "Bruises on both arms, neighbours hear shouting at night.",
        "perpetrator_relation": "parent",
        "child": {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04"},
        "household": {"head_name": "Santoso", "members_count": 5, "welfare_decile": 3,
                      "receives": ["pkh"], "economic_stressors": ["unemployment"]},
    }
    report.update(overrides)
    return report


def stunting_report(**overrides) -> dict:
    """A valid report of stunting risk for a 20-month-old girl in Manggar."""
    report = {
        "category": "stunting_risk",
        "village_code": MANGGAR,
        "rt": "3",
        "rw": "1",
        "child": {"name": "Siti Aminah", "sex": "female", "age_months": 20},
        "household": {"members_count": 6, "welfare_decile": 2, "economic_stressors": []},
    }
    report.update(overrides)
    return report
