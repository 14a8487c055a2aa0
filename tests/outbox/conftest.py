"""Fixtures of the outbox tests: callers, a routed case, and a worker on the test's
database."""

from dataclasses import replace
from datetime import timedelta

import pytest

from api.cases.sla import Deadlines
from api.outbox.settings import OutboxSettings
from api.outbox.worker import Worker
from tests.conftest import BALIKPAPAN_TIMUR, child_report
from tests.outbox.receivers import Receiver

FAST = OutboxSettings(backoff_base=timedelta(milliseconds=20),
                      backoff_cap=timedelta(milliseconds=80), timeout=timedelta(seconds=3),
                      lease=timedelta(seconds=30), public_url="https://lindung.example.go.id")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def caseworker(make_user):
    return make_user("caseworker", [BALIKPAPAN_TIMUR])


@pytest.fixture
def dinsos(make_user):
    return make_user("agency_officer", agency="DINSOS")


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def make_worker(app):
    def make(**settings) -> Worker:
        return Worker(app.extensions["lindung.db"], replace(FAST, **settings), Deadlines(),
                      name="test-worker")
    return make


def etag(client, caller, url):
    return client.get(url, headers=caller.headers).headers["ETag"]


def act(client, caller, url, body, resource_url):
    return client.post(url, json=body,
                       headers={**caller.headers, "If-Match": etag(client, caller,
                                                                     resource_url)})


def set_webhook(client, admin, code, url, **extra) -> dict:
    response = client.patch(f"/api/v1/agencies/{code}", json={"webhook_url": url, **extra},
                            headers=admin.headers)
    assert response.status_code == 200, response.json
    return response.json


def report_and_route(client, caseworker, **report) -> dict:
    """A case of physical violence in Manggar, triaged high and routed to the agencies."""
    case = client.post("/api/v1/cases", json=child_report(source="hotline", **report),
                       headers=caseworker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    assert act(client, caseworker, f"{url}/triage", {"risk_level": "high"}, url).status_code \
        == 200
    assert act(client, caseworker, f"{url}/route", None, url).status_code == 200
    return case


def drain(worker: Worker, *, rounds: int = 200, until=None) -> None:
    """Run the worker until nothing is due and UNTIL() holds (retries wait a little)."""
    import time

    for _ in range(rounds):
        tried = worker.run_once()
        if until is not None and until():
            return
        if not tried:
            if until is None:
                return
            time.sleep(0.02)
    raise AssertionError("the worker did not finish")
