"""`lindung serve` as run in production: slow clients do not stop it, a request id is found in
the answer, the audit trail and the log, and a served flow shows in /metrics."""

import json
import re
import socket
import threading
import time
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from tests.conftest import child_report
from tests.servers import bearer, running_server

UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
WORKERS = 2
# many more than a threaded setup of WORKERS × threads could serve at once
TRICKLERS = 16


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("serving"), "lindung_serving",
                        workers=WORKERS) as served:
        yield served


@contextmanager
def trickling_clients(base: str, count: int, *, every: float = 1.0):
    """COUNT connections that send a request one header line every EVERY seconds and never
    finish it (a slowloris)."""
    address = urlsplit(base)
    connections = [socket.create_connection((address.hostname, address.port))
                   for _ in range(count)]
    stop = threading.Event()

    def trickle():
        for connection in connections:
            connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: slow\r\n")
        line = 0
        while not stop.wait(every):
            line += 1
            for connection in connections:
                with suppress(OSError):
                    connection.sendall(b"X-Slow-%d: still here\r\n" % line)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for connection in connections:
            connection.close()


def health_waits(base: str, *, rounds: int, timeout: float) -> list[float]:
    """Seconds each of ROUNDS /health requests took (a new connection each); raises
    requests.Timeout after TIMEOUT seconds."""
    waits = []
    for _ in range(rounds):
        started = time.monotonic()
        assert requests.get(f"{base}/health", timeout=timeout).status_code == 200
        waits.append(time.monotonic() - started)
        time.sleep(0.5)
    return waits


def test_slow_clients_cannot_starve_the_workers(server):
    with trickling_clients(server["base"], TRICKLERS):
        time.sleep(1.5)  # every slow connection has been taken by a worker
        waits = health_waits(server["base"], rounds=6, timeout=5)
    assert max(waits) < 2, waits


def test_threaded_workers_would_be_starved_by_the_same_clients(tmp_path):
    # the setup this one replaces: what the test above guards against
    threaded = {"LINDUNG_WORKER_CLASS": "gthread", "LINDUNG_THREADS": "2"}
    with (running_server(tmp_path, "lindung_threaded", workers=1, settings=threaded) as served,
          trickling_clients(served["base"], 4)):
        time.sleep(1.5)
        with pytest.raises(requests.Timeout):
            health_waits(served["base"], rounds=1, timeout=2)


def test_a_request_waiting_on_the_database_holds_up_no_other(tmp_path):
    # one worker: a driver that blocked its worker while waiting on PostgreSQL (psycopg
    # imported before gevent patched the worker) would serve one request at a time
    with running_server(tmp_path, "lindung_cooperative", workers=1) as served:
        url = served["env"]["LINDUNG_DATABASE_URL"]
        holder = create_engine(url)
        try:
            with holder.connect() as connection:
                if connection.dialect.name == "sqlite":
                    # an SQLite call blocks its worker by design (gunicorn_conf.py): the
                    # check is that the server answers, not that it overlaps
                    assert requests.get(f"{served['base']}/health/ready",
                                        timeout=10).status_code == 200
                    return
                connection.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
                waiting = {}
                reader = threading.Thread(target=lambda: waiting.update(answer=requests.get(
                    f"{served['base']}/health/ready", timeout=30)))
                reader.start()
                time.sleep(1)  # the readiness probe now waits on the lock in PostgreSQL
                assert reader.is_alive()
                started = time.monotonic()
                live = requests.get(f"{served['base']}/health/live", timeout=10)
                alongside = time.monotonic() - started
                connection.rollback()  # the lock is released; the probe goes on
            reader.join(timeout=30)
        finally:
            holder.dispose()
        assert live.status_code == 200 and alongside < 1, alongside
        assert waiting["answer"].status_code == 200


def metrics_url(server) -> str:
    return server["base"].removesuffix("/api/v1") + "/metrics"


def samples(text: str) -> list:
    return [sample for family in text_string_to_metric_families(text)
            for sample in family.samples]


def test_served_flow_shows_in_the_metrics(server):
    reporter = bearer(server["tokens"]["demo_rt_head"])
    created = requests.post(f"{server['base']}/cases", json=child_report(), headers=reporter,
                            timeout=10)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    read = requests.get(f"{server['base']}/cases/{case_id}", params={"q": "Budi Santoso"},
                        headers=reporter, timeout=10)
    assert read.status_code == 200

    scrape = requests.get(metrics_url(server), timeout=10)
    assert scrape.status_code == 200
    found = samples(scrape.text)
    counted = {(s.labels["route"], s.labels["method"], s.labels["status"]): s.value
               for s in found if s.name == "lindung_http_requests_total"}
    assert counted[("/api/v1/cases", "POST", "201")] >= 1
    assert counted[("/api/v1/cases/<uuid:case_id>", "GET", "200")] >= 1
    timed = {s.labels["route"] for s in found
             if s.name == "lindung_http_request_duration_seconds_count"}
    assert {"/api/v1/cases", "/api/v1/cases/<uuid:case_id>"} <= timed
    assert [s.value for s in found if s.name == "lindung_db_pool_capacity_connections"][0] > 0
    labels = [value for s in found for value in s.labels.values()]
    assert not [value for value in labels
                if UUID.search(value) or "?" in value or "Budi" in value]
    assert case_id not in scrape.text


def test_request_id_is_in_the_answer_the_audit_event_and_the_log(server):
    created = requests.post(f"{server['base']}/cases", json=child_report(), timeout=10,
                            headers={**bearer(server["tokens"]["demo_rt_head"]),
                                     "X-Request-ID": "abc-123"})
    assert created.status_code == 201, created.text
    assert created.headers["X-Request-ID"] == "abc-123"

    events = requests.get(f"{server['base']}/audit-events",
                          params={"subject_id": created.json()["id"]}, timeout=10,
                          headers=bearer(server["tokens"]["demo_supervisor"])).json()
    assert "abc-123" in [event["request_id"] for event in events]

    lines = _log_lines_with(server["log"], "abc-123")
    assert {(line["route"], line["status"]) for line in lines} == {("/api/v1/cases", 201)}


def test_log_is_json_lines_without_query_strings(server):
    requests.get(f"{server['base']}/health", params={"q": "Siti Aminah"}, timeout=10,
                 headers={"X-Request-ID": "query-1"})
    [access] = _log_lines_with(server["log"], "query-1")
    assert access["path"] == "/api/v1/health"
    text = server["log"].read_text()
    assert "Siti" not in text
    # the two lines `lindung serve` prints before gunicorn starts are for the operator
    logged = [json.loads(line) for line in text.splitlines()[2:] if line.strip()]
    assert {"time", "level", "logger", "message", "request_id"} <= set(logged[0])
    assert any(line["logger"] == "gunicorn.access" for line in logged)


def _log_lines_with(log, request_id: str, *, seconds: float = 5) -> list[dict]:
    """The access log lines carrying REQUEST_ID, waiting for the first (a request's line is
    written as its answer leaves)."""
    deadline = time.monotonic() + seconds
    while True:
        lines = [json.loads(line) for line in log.read_text().splitlines()
                 if line.startswith("{")]
        found = [line for line in lines if line.get("logger") == "gunicorn.access"
                 and line.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
