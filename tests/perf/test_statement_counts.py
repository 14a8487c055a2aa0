"""No N+1 in lists: a page of 50 rows takes as many SQL statements as a page of 3, for each
list and each view of it (issue 13: work per request counted and kept small)."""

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from api.regions import calendar
from tests.conftest import BALIKPAPAN, MANGGAR, child_report

ROWS = 50
TODAY = calendar.today_in(MANGGAR)


@contextmanager
def counted(connection):
    """The SQL statements run on CONNECTION inside the block."""
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _statements(client, connection, caller, url, size, **query):
    with counted(connection) as statements:
        answer = client.get(url, query_string={"page_size": size, **query},
                            headers=caller.headers)
    assert answer.status_code == 200, answer.json
    assert len(answer.json) == size, (url, len(answer.json))
    return statements


def assert_flat(client, connection, caller, url, **query):
    """The list at URL costs the same statements for 3 rows and for ROWS rows, also deep."""
    small = _statements(client, connection, caller, url, 3, **query)
    large = _statements(client, connection, caller, url, ROWS, **query)
    assert len(small) == len(large), (url, len(small), len(large), large)
    first = client.get(url, query_string={"page_size": 3, **query}, headers=caller.headers)
    cursor = json.loads(first.headers["X-Pagination"])["next_cursor"]
    deep = _statements(client, connection, caller, url, 3, cursor=cursor, **query)
    assert len(deep) == len(small), (url, "deep page")


def _etag(client, caller, url):
    return client.get(url, headers=caller.headers).headers["ETag"]


def _routed(client, worker, number):
    """A high-risk case (DINSOS among its referrals), triaged and routed."""
    case = client.post("/api/v1/cases", json=child_report(
        source="hotline", child={"name": f"Anak Nomor {number}", "sex": "male",
                                 "birth_date": "2015-05-04"}), headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    for action, body in (("triage", {"risk_level": "high"}), ("route", None)):
        answer = client.post(f"{url}/{action}", json=body,
                             headers={**worker.headers, "If-Match": _etag(client, worker, url)})
        assert answer.status_code == 200, answer.json
    return case


@pytest.fixture
def worker(make_user):
    return make_user("caseworker", [BALIKPAPAN])


def test_case_and_referral_lists_do_not_grow_with_the_page(client, connection, make_user,
                                                           worker):
    reporter = make_user("rt_head", [MANGGAR])
    for number in range(ROWS + 1):
        _routed(client, worker, number)
        assert client.post("/api/v1/cases", json=child_report(child={
            "name": f"Anak Lapor {number}", "sex": "female", "birth_date": "2016-01-02"}),
            headers=reporter.headers).status_code == 201
    supervisor = make_user("supervisor", [BALIKPAPAN])
    for caller in (reporter, worker, supervisor):
        assert_flat(client, connection, caller, "/api/v1/cases")
    assert_flat(client, connection, worker, "/api/v1/cases", sort="queue")
    assert_flat(client, connection, worker, "/api/v1/cases", needs_attention="false",
                q="Anak")
    for role in ("agency_officer", "agency_system"):
        agency = make_user(role, agency="DINSOS")
        assert_flat(client, connection, agency, "/api/v1/referrals")
    assert_flat(client, connection, worker, "/api/v1/referrals")
    assert_flat(client, connection, supervisor, "/api/v1/audit-events")
    assert_flat(client, connection, make_user("admin"), "/api/v1/audit-events")


def test_child_measurements_and_case_timeline_do_not_grow_with_the_page(client, connection,
                                                                        make_user, worker):
    cadre = make_user("posyandu_cadre", [MANGGAR])
    # stunted from the first weighing: every page shows the same stunting-risk case
    birth = TODAY - timedelta(days=5 * 365 - 10)
    first = client.post("/api/v1/measurements", json={
        "child": {"name": "Putri Ayu", "sex": "female", "birth_date": birth.isoformat(),
                  "village_code": MANGGAR, "rt": "3", "rw": "1"},
        "measured_on": (birth + timedelta(days=30)).isoformat(), "weight_kg": 4.5,
        "height_cm": 47.9, "position": "lying"}, headers=cadre.headers)
    assert first.status_code == 201, first.json
    child_id = first.json["child_id"]
    for month in range(2, ROWS + 2):
        answer = client.post("/api/v1/measurements", json={
            "child_id": child_id, "measured_on": (birth + timedelta(days=30 * month)).isoformat(),
            "weight_kg": 4.5 + month * 0.25, "height_cm": 47.0 + month * 0.9,
            "position": "lying" if month < 24 else "standing"}, headers=cadre.headers)
        assert answer.status_code == 201, answer.json
    assert_flat(client, connection, worker, f"/api/v1/children/{child_id}/measurements")

    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    for number in range(ROWS):
        answer = client.patch(url, json={"address": f"Jl. Nomor {number}"},
                              headers={**worker.headers, "If-Match": _etag(client, worker, url)})
        assert answer.status_code == 200, answer.json
    assert_flat(client, connection, worker, f"{url}/timeline")
    assert_flat(client, connection, make_user("supervisor", [BALIKPAPAN]),
                f"/api/v1/children/{case['child']['id']}/access-log")
