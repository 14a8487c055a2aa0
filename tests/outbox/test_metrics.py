"""The outbox in /metrics: backlog, oldest waiting age, failures by agency endpoint."""

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from tests.outbox.conftest import report_and_route, set_webhook


def _scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples if sample.name.startswith("lindung_outbox")}


def test_backlog_age_and_failing_endpoints_are_scraped(client, admin, caseworker, make_worker):
    set_webhook(client, admin, "DINSOS", "http://127.0.0.1:9/nothing-listens")
    set_webhook(client, admin, "DINKES", "http://127.0.0.1:9/nothing-listens")
    report_and_route(client, caseworker)
    waiting = _scrape(client)
    assert waiting[("lindung_outbox_backlog", (("channel", "webhook"),))] == 2
    assert waiting[("lindung_outbox_oldest_pending_age_seconds", (("channel", "webhook"),))] >= 0
    assert waiting[("lindung_outbox_endpoint_failing", (("agency", "DINSOS"),))] == 0

    make_worker(retry_window=timedelta(0)).run_once()
    failed = _scrape(client)
    assert failed.get(("lindung_outbox_backlog", (("channel", "webhook"),)), 0) == 0
    assert failed[("lindung_outbox_failed_deliveries", (("agency", "DINSOS"),))] == 1
    assert failed[("lindung_outbox_failed_deliveries", (("agency", "DINKES"),))] == 1
    assert failed[("lindung_outbox_endpoint_failing", (("agency", "DINSOS"),))] == 1
