"""GET /metrics: who may read it, and what its labels may never hold."""

import re
import uuid

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from api.db import make_engine
from api.observability import metrics
from tests.conftest import child_report

UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def samples(text: str) -> list:
    return [sample for family in text_string_to_metric_families(text)
            for sample in family.samples]


def value(name: str, **labels) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_served_to_this_machine_without_a_token(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "lindung_http_requests_total" in response.get_data(as_text=True)


def test_metrics_are_refused_to_other_machines_without_a_token(client):
    response = client.get("/metrics", environ_base=REMOTE)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "lindung_" not in response.get_data(as_text=True)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic c2NyYXBlOnM=",
                                           "Bearer "])
def test_metrics_need_the_token_when_one_is_set(app, authorization):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "lindung_" not in response.get_data(as_text=True)


def test_metrics_token_opens_them_from_anywhere(app):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    response = app.test_client().get("/metrics", environ_base=REMOTE,
                                     headers={"Authorization": "Bearer scrape-secret"})
    assert response.status_code == 200


def test_an_api_token_does_not_open_the_metrics(app, make_user):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    admin = make_user("admin")
    assert app.test_client().get("/metrics", headers=admin.headers).status_code == 401


def test_metrics_are_not_part_of_the_api_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert not any("metrics" in path for path in spec["paths"])


def test_requests_are_counted_by_route_template_not_by_path(client, make_user):
    rt_head = make_user("rt_head", areas=["6471011001"])
    case_id = client.post("/api/v1/cases", json=child_report(),
                          headers=rt_head.headers).get_json()["id"]
    route = "/api/v1/cases/<uuid:case_id>"
    before = value("lindung_http_requests_total", route=route, method="GET", status="200")
    client.get(f"/api/v1/cases/{case_id}?q=Budi+Santoso", headers=rt_head.headers)
    client.get(f"/api/v1/nothing/{uuid.uuid4()}?name=Budi")
    assert value("lindung_http_requests_total", route=route, method="GET",
                 status="200") == before + 1
    assert value("lindung_http_request_duration_seconds_count", route=route, method="GET",
                 status="200") >= 1
    labels = [label for sample in samples(client.get("/metrics").get_data(as_text=True))
              for label in sample.labels.values()]
    assert "unmatched" in labels
    assert not [label for label in labels
                if UUID.search(label) or "?" in label or "Budi" in label]


def test_unknown_methods_are_counted_as_other(client):
    before = value("lindung_http_requests_total", route="unmatched", method="other",
                   status="405")
    client.open("/api/v1/health", method="BREW")
    assert value("lindung_http_requests_total", route="unmatched", method="other",
                 status="405") == before + 1


def test_idempotent_replay_is_counted(client, make_user):
    rt_head = make_user("rt_head", areas=["6471011001"])
    headers = {**rt_head.headers, "Idempotency-Key": f"replay-{uuid.uuid4().hex}"}
    before = value("lindung_idempotency_replays_total")
    first = client.post("/api/v1/cases", json=child_report(), headers=headers)
    assert value("lindung_idempotency_replays_total") == before
    again = client.post("/api/v1/cases", json=child_report(), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert value("lindung_idempotency_replays_total") == before + 1


def test_pool_gauges_follow_connections_in_use(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}")
    capacity = value("lindung_db_pool_capacity_connections")
    metrics.instrument_engine(engine)
    assert value("lindung_db_pool_capacity_connections") == (
        capacity + engine.pool.size() + engine.pool._max_overflow)
    checked_out = value("lindung_db_pool_checked_out_connections")
    opened = value("lindung_db_pool_open_connections")
    with engine.connect():
        assert value("lindung_db_pool_checked_out_connections") == checked_out + 1
        assert value("lindung_db_pool_open_connections") == opened + 1
    assert value("lindung_db_pool_checked_out_connections") == checked_out
    engine.dispose()
    assert value("lindung_db_pool_open_connections") == opened


def test_audit_chain_wait_is_timed():
    before = value("lindung_audit_chain_wait_seconds_count")
    with metrics.audit_chain_wait():
        pass
    assert value("lindung_audit_chain_wait_seconds_count") == before + 1


class Backlog:
    """A collector of the kind other modules register (a queue read at scrape time)."""

    def collect(self):
        yield GaugeMetricFamily("lindung_test_backlog", "Items waiting.", value=7)


def test_registered_collector_is_scraped(client):
    backlog = Backlog()
    metrics.register_collector(backlog)
    metrics.register_collector(backlog)
    try:
        text = client.get("/metrics").get_data(as_text=True)
    finally:
        metrics._collectors.remove(backlog)
    assert [s.value for s in samples(text) if s.name == "lindung_test_backlog"] == [7]


@pytest.mark.parametrize("forwarded", [{"X-Forwarded-For": "203.0.113.9"},
                                       {"Forwarded": "for=203.0.113.9"},
                                       {"X-Real-IP": "203.0.113.9"}])
def test_metrics_are_refused_to_a_caller_a_local_proxy_passed_on(client, forwarded):
    # behind a proxy on this machine every caller's address is the proxy's, a local one
    response = client.get("/metrics", headers=forwarded)
    assert response.status_code == 403
    assert "lindung_" not in response.get_data(as_text=True)
