"""The probes: liveness never asks the database; readiness says whether the database is
reachable and at the newest schema, and which of the two is wrong; neither needs a token."""

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from api import create_app
from api.migrate import head_revisions, upgrade

INITIAL_REVISION = "641a160e4f9f"
SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_ready_and_live_when_migrated(client):
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 200
    assert ready.json["status"] == "ready"
    assert ready.json["schema"] == "current"
    assert set(ready.json["revisions"]) == head_revisions()
    live = client.get("/api/v1/health/live")
    assert live.status_code == 200 and live.json["status"] == "alive"


def _client_on(url: str):
    return create_app({"DATABASE_URL": url}).test_client()


def test_not_ready_while_the_schema_is_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, revision=INITIAL_REVISION)
    answer = _client_on(url).get("/api/v1/health/ready")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert answer.json["database"] == "ok"
    assert answer.json["schema"] == "behind"
    assert answer.json["revisions"] == [INITIAL_REVISION]


def test_not_ready_on_a_database_never_migrated(tmp_path):
    answer = _client_on(f"sqlite:///{tmp_path / 'empty.sqlite3'}").get("/api/v1/health/ready")
    assert answer.status_code == 503
    assert (answer.json["database"], answer.json["schema"]) == ("ok", "behind")
    assert answer.json["revisions"] == []


def test_not_ready_on_a_schema_of_a_newer_release(tmp_path):
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff0'"))
    engine.dispose()
    answer = _client_on(url).get("/api/v1/health/ready")
    assert answer.status_code == 503
    assert answer.json["schema"] == "newer"


def test_liveness_answers_without_a_database(tmp_path):
    client = _client_on(f"sqlite:///{tmp_path / 'missing' / 'lindung.sqlite3'}")
    assert client.get("/api/v1/health/live").status_code == 200
    assert client.get("/api/v1/health/ready").json["database"] == "unreachable"


def test_probes_are_documented_as_public_with_retry_after():
    spec = json.loads(SPEC.read_text())
    for path in ("/api/v1/health/ready", "/api/v1/health/live"):
        assert spec["paths"][path]["get"]["security"] == []
    not_ready = spec["paths"]["/api/v1/health/ready"]["get"]["responses"]["503"]
    assert "Retry-After" in not_ready["headers"]
    # every other operation may meet an unreachable database too
    assert "Retry-After" in spec["components"]["responses"]["SERVICE_UNAVAILABLE"]["headers"]
    assert "503" in spec["paths"]["/api/v1/cases"]["post"]["responses"]
