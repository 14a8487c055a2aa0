"""From report to closure through the HTTP API: triage, routing, five agencies, monitoring."""

import pytest

from tests.conftest import BALIKPAPAN, MANGGAR, child_report

AGENCIES = ["UPTD_PPA", "DINKES", "DINSOS", "DISKOP_UMKM", "DISDIK"]
AGENCY_VIEW = {"reference", "category", "risk_level", "emergency", "child", "village_code",
               "rw", "rt", "address", "household", "latest_measurement"}
REFERRAL_FIELDS = {"id", "case_id", "case_reference", "agency", "service", "status", "rule",
                   "note", "reason", "outcome", "external_reference", "due_at", "overdue",
                   "created_at", "updated_at"}


def _act(client, caller, url, body, resource_url):
    """POST an action with the resource's current ETag."""
    etag = client.get(resource_url, headers=caller.headers).headers["ETag"]
    return client.post(url, json=body, headers={**caller.headers, "If-Match": etag})


@pytest.fixture
def people(make_user):
    return {
        "rt_head": make_user("rt_head", [MANGGAR]),
        "caseworker": make_user("caseworker", [BALIKPAPAN]),
        "supervisor": make_user("supervisor", [BALIKPAPAN]),
        **{code: make_user("agency_system", agency=code) for code in AGENCIES},
    }


def test_report_to_closure(client, people):
    rt_head, worker = people["rt_head"], people["caseworker"]
    # an RT head reports physical violence against a 9-year-old; the father is unemployed
    report = client.post("/api/v1/cases", headers=rt_head.headers, json=child_report(
        child={"name": "Budi Santoso", "sex": "male", "age_months": 9 * 12 + 3}))
    assert report.status_code == 201
    case_url = f"/api/v1/cases/{report.json['id']}"

    triaged = _act(client, worker, f"{case_url}/triage",
                   {"risk_level": "high", "note": "Visited: bruises confirmed."}, case_url)
    assert triaged.status_code == 200, triaged.json
    assert triaged.json["status"] == "triaged"
    assert triaged.json["assigned_to"] == str(worker.id)

    plan = client.get(f"{case_url}/routing-plan", headers=worker.headers).json
    assert {(p["agency"], p["service"], p["rule"]) for p in plan} == {
        ("UPTD_PPA", "psychosocial_support", "violence-protection"),
        ("DINKES", "medical_examination", "violence-medical"),
        ("DINSOS", "social_assistance", "violence-social-assistance"),
        ("DISKOP_UMKM", "job_training", "violence-job-training"),
        ("DISDIK", "school_support", "violence-school"),
    }

    routed = _act(client, worker, f"{case_url}/route", None, case_url)
    assert routed.status_code == 200, routed.json
    assert routed.json["status"] == "referred"
    referrals = client.get("/api/v1/referrals", query_string={"case_id": report.json["id"]},
                           headers=worker.headers).json
    assert sorted(r["agency"] for r in referrals) == sorted(AGENCIES)
    assert all(set(r) == REFERRAL_FIELDS for r in referrals)

    for position, code in enumerate(AGENCIES):
        agency = people[code]
        mine = client.get("/api/v1/referrals", headers=agency.headers).json
        assert [r["agency"] for r in mine] == [code]
        referral = mine[0]
        assert set(referral["case"]) == AGENCY_VIEW
        assert referral["case"]["child"]["name"] == "Budi Santoso"
        url = f"/api/v1/referrals/{referral['id']}"
        accepted = _act(client, agency, f"{url}/transitions",
                        {"to": "accepted", "external_reference": f"{code}-77"}, url)
        assert accepted.status_code == 200, accepted.json
        case_now = client.get(case_url, headers=worker.headers).json
        assert case_now["status"] == "in_service"
        completed = _act(client, agency, f"{url}/transitions",
                         {"to": "completed", "outcome": "Service given."}, url)
        assert completed.status_code == 200, completed.json
        expected = "monitoring" if position == len(AGENCIES) - 1 else "in_service"
        assert client.get(case_url, headers=worker.headers).json["status"] == expected

    closed = _act(client, worker, f"{case_url}/transitions",
                  {"to": "closed", "reason": "resolved", "note": "Family stable."}, case_url)
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed"
    assert closed.json["closure_reason"] == "resolved"
    assert closed.json["closed_at"]

    steps = client.get(f"{case_url}/timeline", headers=worker.headers).json
    kinds = [step["kind"] for step in steps]
    assert kinds[:3] == ["reported", "triaged", "referral_created"]
    assert kinds.count("referral_created") == 5
    assert kinds.count("referral_accepted") == 5 and kinds.count("referral_completed") == 5
    assert [(s["from_status"], s["to_status"]) for s in steps if s["kind"] in
            ("triaged", "routed", "status_changed")] == [
        ("reported", "triaged"), ("triaged", "referred"), ("referred", "in_service"),
        ("in_service", "monitoring"), ("monitoring", "closed")]
    assert steps[0]["actor"] == {"id": str(rt_head.id), "role": "rt_head"}
    assert steps[-1]["note"] == "Family stable."
    assert all(step["at"] for step in steps)

    # the reporter follows up and learns the status, nothing of the referrals
    seen = client.get(case_url, headers=rt_head.headers).json
    assert seen["status"] == "closed"
    assert set(seen) == {"id", "reference", "category", "status", "created_at", "updated_at"}
