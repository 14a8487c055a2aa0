"""Who may report, list, read and correct which cases, and which fields each view shows."""

import json

import pytest

from api.regions import calendar
from api.rest import Blueprint
from tests.conftest import (
    BALIKPAPAN,
    BANJARMASIN,
    LAMARU,
    MANGGAR,
    MANTUIL,
    child_report,
    stunting_report,
)

REPORTER_VIEW = {"id", "reference", "category", "status", "created_at", "updated_at"}
FULL_VIEW = REPORTER_VIEW | {
    "closure_reason", "risk_level", "emergency", "needs_attention", "violence_types", "tags",
    "incident_date", "incident_place", "description", "perpetrator_relation", "village_code",
    "rw", "rt", "address", "source", "reporter", "assigned_to", "child", "household",
    "possible_duplicates", "possible_duplicate_count", "triage_due_at", "overdue", "closed_at",
}
REPORTER_ROLES = ["rt_head", "teacher", "posyandu_cadre"]
STAFF_ROLES = ["caseworker", "supervisor"]
NON_CASE_ROLES = [("agency_officer", "DINSOS"), ("agency_system", "DINKES"),
                  ("analyst", None), ("admin", None)]


@pytest.fixture
def reported(client, make_user):
    """A case in Manggar reported by an RT head of Manggar."""
    rt_head = make_user("rt_head", [MANGGAR])
    response = client.post("/api/v1/cases", json=child_report(), headers=rt_head.headers)
    assert response.status_code == 201, response.json
    return rt_head, response.json


def _case_patch(client, caller, case_id, body):
    etag = client.get(f"/api/v1/cases/{case_id}", headers=caller.headers).headers.get("ETag")
    return client.patch(f"/api/v1/cases/{case_id}", json=body,
                        headers={**caller.headers, "If-Match": etag or '"none"'})


@pytest.mark.parametrize("role", REPORTER_ROLES)
def test_reporter_reports_in_own_area_and_gets_reporter_view(client, make_user, role):
    reporter = make_user(role, [MANGGAR])
    response = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers)
    assert response.status_code == 201
    assert set(response.json) == REPORTER_VIEW
    assert response.headers["Location"] == f"/api/v1/cases/{response.json['id']}"


@pytest.mark.parametrize("role", REPORTER_ROLES + STAFF_ROLES)
def test_nobody_reports_outside_own_area(client, make_user, role):
    caller = make_user(role, [LAMARU])
    body = child_report(source="hotline") if role in STAFF_ROLES else child_report()
    response = client.post("/api/v1/cases", json=body, headers=caller.headers)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    staff = make_user("caseworker", [BALIKPAPAN])
    assert client.get("/api/v1/cases", headers=staff.headers).json == []


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_report_with_source_and_get_full_view(client, make_user, role):
    staff = make_user(role, [BALIKPAPAN])
    response = client.post("/api/v1/cases", json=child_report(source="hotline"),
                           headers=staff.headers)
    assert response.status_code == 201
    assert set(response.json) == FULL_VIEW
    assert response.json["source"] == "hotline"
    assert response.json["reporter"] == {"id": str(staff.id), "role": role}


@pytest.mark.parametrize(("role", "agency"), NON_CASE_ROLES)
def test_agency_analyst_and_admin_may_not_touch_cases(client, make_user, reported, role, agency):
    _, case = reported
    caller = make_user(role, [BALIKPAPAN] if role == "analyst" else [], agency)
    assert client.post("/api/v1/cases", json=child_report(),
                       headers=caller.headers).status_code == 403
    assert client.get("/api/v1/cases", headers=caller.headers).status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}", headers=caller.headers).status_code == 403
    response = client.patch(f"/api/v1/cases/{case['id']}", json={"rt": "1"},
                            headers={**caller.headers, "If-Match": '"x"'})
    assert response.status_code == 403


def test_reporter_lists_and_reads_only_own_reports(client, make_user, reported):
    author, case = reported
    neighbour = make_user("rt_head", [MANGGAR])  # same kelurahan, not the author
    listed = client.get("/api/v1/cases", headers=author.headers).json
    assert [c["id"] for c in listed] == [case["id"]]
    assert set(listed[0]) == REPORTER_VIEW
    read = client.get(f"/api/v1/cases/{case['id']}", headers=author.headers)
    assert read.status_code == 200 and set(read.json) == REPORTER_VIEW
    assert client.get("/api/v1/cases", headers=neighbour.headers).json == []
    assert client.get(f"/api/v1/cases/{case['id']}", headers=neighbour.headers).status_code == 404


@pytest.mark.parametrize("role", REPORTER_ROLES)
def test_reporter_may_not_correct_even_own_report(client, make_user, role):
    reporter = make_user(role, [MANGGAR])
    case = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json
    response = _case_patch(client, reporter, case["id"], {"rt": "9"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_list_read_and_correct_cases_in_own_area(client, make_user, reported, role):
    _, case = reported
    staff = make_user(role, [BALIKPAPAN])
    listed = client.get("/api/v1/cases", headers=staff.headers).json
    assert [c["id"] for c in listed] == [case["id"]]
    assert set(listed[0]) == FULL_VIEW
    read = client.get(f"/api/v1/cases/{case['id']}", headers=staff.headers)
    assert set(read.json) == FULL_VIEW
    assert read.json["child"]["name"] == "Budi Santoso"
    patched = _case_patch(client, staff, case["id"], {"rt": "9"})
    assert patched.status_code == 200
    assert patched.json["rt"] == "9"


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_of_another_city_see_nothing(client, make_user, reported, role):
    _, case = reported
    other = make_user(role, [BANJARMASIN])
    assert client.get("/api/v1/cases", headers=other.headers).json == []
    assert client.get(f"/api/v1/cases/{case['id']}", headers=other.headers).status_code == 404
    response = client.patch(f"/api/v1/cases/{case['id']}", json={"rt": "1"},
                            headers={**other.headers, "If-Match": '"x"'})
    assert response.status_code == 404


def test_staff_cannot_move_a_case_out_of_their_areas(client, make_user, reported):
    _, case = reported
    staff = make_user("caseworker", [BALIKPAPAN])
    response = _case_patch(client, staff, case["id"], {"village_code": MANTUIL})
    assert response.status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}",
                      headers=staff.headers).json["village_code"] == MANGGAR


def test_kecamatan_area_covers_its_kelurahan(client, make_user, reported):
    _, case = reported
    district_worker = make_user("caseworker", ["647101"])
    other_district = make_user("caseworker", ["647102"])
    assert client.get(f"/api/v1/cases/{case['id']}",
                      headers=district_worker.headers).status_code == 200
    assert client.get(f"/api/v1/cases/{case['id']}",
                      headers=other_district.headers).status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/cases"), ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/00000000-0000-0000-0000-000000000000"),
    ("patch", "/api/v1/cases/00000000-0000-0000-0000-000000000000"),
    ("get", "/api/v1/me"), ("get", "/api/v1/regions"),
])
def test_every_case_endpoint_needs_a_token(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert response.headers["Content-Type"] == "application/problem+json"


def test_unknown_case_is_404_for_staff(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    response = client.get("/api/v1/cases/00000000-0000-0000-0000-000000000000",
                          headers=staff.headers)
    assert response.status_code == 404
    assert response.json["status"] == 404


def test_list_filters(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    violence = client.post("/api/v1/cases", json=child_report(source="hotline"),
                           headers=staff.headers).json
    stunting = client.post("/api/v1/cases", headers=staff.headers, json=stunting_report(
        source="outreach", village_code=LAMARU)).json

    def ids(**query):
        response = client.get("/api/v1/cases", query_string=query, headers=staff.headers)
        assert response.status_code == 200, response.json
        return {c["id"] for c in response.json}

    assert ids() == {violence["id"], stunting["id"]}
    assert ids(category="stunting_risk") == {stunting["id"]}
    assert ids(status="reported") == {violence["id"], stunting["id"]}
    assert ids(status="closed") == set()
    assert ids(village_code=LAMARU) == {stunting["id"]}
    assert ids(village_code="647101") == {violence["id"], stunting["id"]}
    assert ids(village_code="6371") == set()
    assert ids(q="siti") == {stunting["id"]}
    assert ids(q=violence["reference"].lower()) == {violence["id"]}
    # the day of the kelurahan's calendar (WITA), not the UTC date of created_at
    today = calendar.today_in(LAMARU).isoformat()
    assert ids(reported_from=today, reported_to=today) == {violence["id"], stunting["id"]}
    assert ids(reported_to="2020-01-01") == set()


def test_list_is_paginated(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    for _ in range(3):
        client.post("/api/v1/cases", json=child_report(source="hotline"), headers=staff.headers)
    response = client.get("/api/v1/cases?page=2&page_size=2", headers=staff.headers)
    assert len(response.json) == 1
    # no COUNT unless asked for: exact totals are never the price of a page (DESIGN §3)
    assert "total" not in json.loads(response.headers["X-Pagination"])
    counted = client.get("/api/v1/cases?page_size=2&with_total=true", headers=staff.headers)
    assert json.loads(counted.headers["X-Pagination"])["total"] == 3
    assert client.get("/api/v1/cases?page_size=101", headers=staff.headers).status_code == 422


def test_reporter_etag_is_made_of_the_reporter_view_only(client, reported):
    rt_head, case = reported
    response = client.get(f"/api/v1/cases/{case['id']}", headers=rt_head.headers)
    # versions and flags the view hides would otherwise be guessable from the ETag
    assert response.headers["ETag"] == Blueprint.etag_of(response.json)
