"""X-Request-ID (DESIGN §3): kept when sane, else made here; echoed on every answer, on the
request's audit event and in its log lines."""

import io
import json
import logging
import re

import pytest

from api.observability.logs import json_handler
from tests.conftest import BALIKPAPAN

GENERATED = re.compile(r"[0-9a-f]{32}")


def test_sane_request_id_is_echoed(client):
    response = client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_request_id_of_128_visible_characters_is_kept(client):
    given = "!~" * 64
    response = client.get("/api/v1/health", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["x" * 129, "abc 123", "abc\t123", "abc-é", "", "a\x7fb"],
                         ids=["too-long", "space", "tab", "non-ascii", "empty", "delete"])
def test_insane_request_id_is_replaced(client, given):
    response = client.get("/api/v1/health", headers={"X-Request-ID": given})
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_request_without_id_gets_a_new_one_each_time(client):
    first = client.get("/api/v1/health").headers["X-Request-ID"]
    second = client.get("/api/v1/health").headers["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second


@pytest.mark.parametrize("path, status", [("/api/v1/cases", 401), ("/api/v1/no-such-thing", 404)])
def test_refusals_and_errors_echo_the_request_id(client, path, status):
    response = client.get(path, headers={"X-Request-ID": "refused-1"})
    assert response.status_code == status
    assert response.headers["X-Request-ID"] == "refused-1"


def test_forbidden_answer_echoes_the_request_id(client, make_user):
    analyst = make_user("analyst")
    response = client.get("/api/v1/audit-events",
                          headers={**analyst.headers, "X-Request-ID": "forbidden-1"})
    assert response.status_code == 403
    assert response.headers["X-Request-ID"] == "forbidden-1"


def test_audit_event_holds_the_request_id(client, make_user):
    supervisor = make_user("supervisor", areas=[BALIKPAPAN])
    long_id = "req-" + "7" * 124  # the longest kept: 128 characters
    read = client.get("/api/v1/cases", headers={**supervisor.headers, "X-Request-ID": long_id})
    assert read.status_code == 200
    events = client.get("/api/v1/audit-events", headers=supervisor.headers,
                        query_string={"actor_id": str(supervisor.id)}).get_json()
    assert long_id in [event["request_id"] for event in events]


def test_log_line_of_a_request_carries_its_id(app):
    stream = io.StringIO()
    handler = json_handler(stream)
    logger = logging.getLogger("lindung.test")
    logger.addHandler(handler)
    try:
        with app.test_request_context(headers={"X-Request-ID": "log-42"}):
            logger.warning("seen")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["request_id"] == "log-42" and inside["message"] == "seen"
    assert inside["level"] == "WARNING" and inside["time"].endswith("Z")
    assert outside["request_id"] is None
