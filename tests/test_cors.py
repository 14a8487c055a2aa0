"""Cross-origin calls (DESIGN §3): pages of the origins in LINDUNG_CORS_ORIGINS may call the
API and read ETag, Location, X-Pagination and X-Request-ID; pages of any other origin get no
CORS header at all, so their browser keeps the answer from them."""

import pytest

from api.app import create_app
from api.config import cors_origins
from tests.conftest import BALIKPAPAN, MANGGAR, child_report

PORTAL = "https://portal.dinsos.example.go.id"
OTHER = "https://elsewhere.example.com"


@pytest.fixture
def cors_client(connection, database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True,
                      "CORS_ORIGINS": [PORTAL, "http://localhost:8080"]}, bind=connection)
    return app.test_client()


def _cors_headers(response) -> dict:
    return {name.lower(): value for name, value in response.headers.items()
            if name.lower().startswith("access-control-")}


def _exposed(response) -> set[str]:
    return {name.strip().lower() for name in
            response.headers.get("Access-Control-Expose-Headers", "").split(",")}


def test_allowed_origin_may_read_the_etag_and_location(cors_client, make_user):
    reporter, worker = make_user("rt_head", [MANGGAR]), make_user("caseworker", [BALIKPAPAN])
    reported = cors_client.post("/api/v1/cases", json=child_report(),
                                headers={**reporter.headers, "Origin": PORTAL})
    assert reported.status_code == 201
    assert reported.headers["Access-Control-Allow-Origin"] == PORTAL
    assert {"etag", "location", "x-pagination", "x-request-id", "retry-after"} <= _exposed(
        reported)
    read = cors_client.get(f"/api/v1/cases/{reported.json['id']}",
                           headers={**worker.headers, "Origin": PORTAL})
    assert read.headers["Access-Control-Allow-Origin"] == PORTAL
    assert read.headers["ETag"]
    listed = cors_client.get("/api/v1/cases", headers={**worker.headers, "Origin": PORTAL})
    assert "x-pagination" in _exposed(listed)


def test_other_origin_gets_no_cors_header(cors_client, make_user):
    worker = make_user("caseworker", [BALIKPAPAN])
    response = cors_client.get("/api/v1/cases", headers={**worker.headers, "Origin": OTHER})
    assert response.status_code == 200  # the browser, not the server, withholds the answer
    assert _cors_headers(response) == {}


def test_preflight_of_an_update_is_allowed_for_the_allowed_origin(cors_client):
    response = cors_client.options("/api/v1/cases/00000000-0000-4000-8000-000000000000/triage",
                                   headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, if-match, "
                                          "idempotency-key"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == PORTAL
    allowed = {name.strip().lower() for name in
               response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers  # tokens, not cookies


def test_preflight_from_other_origin_is_not_allowed(cors_client):
    response = cors_client.options("/api/v1/cases", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert _cors_headers(response) == {}


def test_refusal_reaches_the_allowed_page_readable(cors_client):
    response = cors_client.get("/api/v1/me", headers={"Origin": PORTAL})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == PORTAL


def test_without_allowed_origins_no_cors_header_is_sent(client, make_user):
    worker = make_user("caseworker", [BALIKPAPAN])
    response = client.get("/api/v1/cases", headers={**worker.headers, "Origin": PORTAL})
    assert _cors_headers(response) == {}
    preflight = client.options("/api/v1/cases", headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "POST"})
    assert _cors_headers(preflight) == {}


def test_allowed_origins_are_read_from_a_comma_separated_list():
    assert cors_origins(f" {PORTAL}/ , http://localhost:8080,") == [
        PORTAL, "http://localhost:8080"]
    assert cors_origins("") == []


@pytest.mark.parametrize("listed", ["*", "https://*.example.go.id", "portal.example.go.id",
                                    "https://portal.example.go.id/app", "null"])
def test_anything_but_an_origin_is_refused_at_start(listed):
    with pytest.raises(ValueError, match="is not an origin"):
        cors_origins(listed)
